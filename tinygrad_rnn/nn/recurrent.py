"""Recurrent layers: RNN, LSTM, GRU over whole sequences, multi-layer and optionally
bidirectional, with ``lengths`` for padded batches or a ``PackedSequence`` input, and the LSTM's
``proj_size``; PyTorch's parameter names, order and shapes, so weights move both ways. The cells,
the composed time steps and the parameters are in ``recurrent_cells.py``.

Two roads to the gradient (``impl``), sharing everything here but the walk over time of
one layer in one direction: "composed" runs a cell step per time step with Tensor ops
(``_run_composed``), "fused" runs the whole walk as one node whose backward is ``bptt.py``'s
(``_run_fused``).
"""

from __future__ import annotations

from .. import backend, creation
from ..autograd import constant
from ..ops.recurrent import FusedRecurrence
from ..tensor import Tensor, cat, stack, where
from .recurrent_cells import (
    _check_dtype,
    _check_shape,
    _project,
    _RecurrentParameters,
    gru_step,
    lstm_step,
    rnn_step,
    split_gru_inputs,
)
from .utils.rnn import PackedSequence, _packed_to_padded_and_lengths, _padded_to_packed


def _lengths_as_ints(name: str, lengths, steps: int, batch: int) -> list:
    """``lengths`` (a list, integer tensor or integer array of shape (batch,)) as Python ints in
    [0, steps]. Anything else raises: a float would otherwise be cut to an int by one input form
    and compared as a float (running one step more) by another."""
    if isinstance(lengths, Tensor):
        host = backend.to_numpy(lengths.array)
    elif backend.is_array(lengths):
        host = backend.to_numpy(lengths)
    else:
        try:
            host = backend.host_array(lengths)
        except ValueError:  # a ragged nested list
            raise ValueError(f"{name}: lengths must have shape ({batch},), one integer per sequence, "
                             f"got a ragged {type(lengths).__name__}") from None
    if host.dtype.kind not in "iu":  # bool is refused too: True is no length
        raise TypeError(f"{name}: lengths must be integers (one per sequence), got dtype {host.dtype}")
    if host.shape != (batch,):
        raise ValueError(f"{name}: lengths must have shape ({batch},), one integer per sequence, "
                         f"got shape {host.shape}")
    values = host.tolist()
    if any(not 0 <= n <= steps for n in values):
        raise ValueError(f"{name}: lengths must lie in [0, {steps}] (the padded length), got {values}")
    return values


def _blend(keep, new, old):
    """``new`` for the sequences still running, ``old`` for those that have ended (keep None: all run)."""
    return new if keep is None else where(keep, new, old)


# ---------------------------------------------------------------- layers
class _RecurrentLayer(_RecurrentParameters):
    """Multi-layer, optionally bidirectional recurrence over a whole sequence.

    ``impl`` picks the road to the gradient. ``"fused"`` (the default) runs each layer and
    direction as one graph node whose backward is the hand-derived BPTT of ``bptt.py``;
    ``"composed"`` runs the cell's Tensor ops step by step and lets the engine do BPTT (read
    it to learn; it also supports ``create_graph=True`` and hooks on every step's state).
    The default is fused because it measured 2.5 to 7 times faster forward + backward
    (benchmarks/rnn_training.py and tests/test_bptt.py hold the two to the same numbers):
    e.g. an LSTM with T=32, N=16, H=64 took 3.0 ms fused and 15.6 ms composed on one CPU core.
    The ``impl`` attribute is the road the layer runs. An LSTM with ``proj_size > 0`` runs either
    road too: its fused kind is the LSTM's ``projected`` variant in ``bptt.CELL_KINDS`` ("lstm_proj").
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, impl: str = "fused", *, proj_size: int = 0):
        super().__init__()
        name = type(self).__name__
        if impl not in ("fused", "composed"):
            raise ValueError(f"{name}: impl must be 'fused' or 'composed', got {impl!r}")
        if num_layers < 1:
            raise ValueError(f"{name}: num_layers must be at least 1, got {num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout}")
        if proj_size and self.mode != "LSTM":
            raise ValueError(f"{name}: proj_size is only supported for LSTM, not RNN or GRU; got proj_size={proj_size}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or not 0 <= proj_size < hidden_size:
            raise ValueError(f"{name}: proj_size must be an integer in [0, hidden_size={hidden_size}) "
                             f"(0: no projection), got {proj_size!r}")
        self.impl = impl
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names, self._all_weights = [], []  # PyTorch's bookkeeping of the names, in its order
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else (proj_size or hidden_size) * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                self._make_parameters(suffix, layer_input, bias, device, dtype, proj_size)
                names = [f"{kind}{suffix}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
                         if getattr(self, f"{kind}{suffix}", None) is not None]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        """2 for a bidirectional layer, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def all_weights(self) -> list:
        """The parameters, one list per layer and direction in PyTorch's order (``weight_ih``, ``weight_hh``,
        then ``bias_ih``, ``bias_hh`` if ``bias``, then ``weight_hr`` if ``proj_size``), as PyTorch's."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self) -> list:
        """The parameters in ``_flat_weights_names``'s order (looked up by name, so never stale)."""
        return [getattr(self, name) for name in self._flat_weights_names]

    def flatten_parameters(self) -> None:
        """Does nothing, on purpose. In PyTorch it copies the weights into one contiguous cuDNN buffer
        so that the GPU kernel can use them; here every parameter is its own array and the layers use
        them as they are, so there is nothing to flatten. Kept so that PyTorch code calling it runs."""

    def _state_sizes(self) -> tuple:
        """The features of each state: h (``proj_size`` when the LSTM projects, else ``hidden_size``), c."""
        return ((self.proj_size or self.hidden_size), self.hidden_size)[: self._kind.states]

    def _weights(self, layer: int, direction: int) -> tuple:
        """(W_ih, W_hh, b_ih, b_hh, W_hr) of one layer and direction; None for those it lacks."""
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        return tuple(getattr(self, f"{kind}{suffix}", None) for kind in kinds)

    def _step(self, x_proj, state: tuple, w_hh_t, b_hh, w_hr_t=None) -> tuple:
        """One composed time step on the state tuple: (h,) or, for the LSTM, (h, c). Each layer defines it."""
        raise NotImplementedError

    def _per_step(self, projected: Tensor):
        """The projected input (T, N, G) as what ``_step`` takes for each time step: its slices."""
        return projected.unbind(0)

    def _initial_states(self, hx, batch: int, like: Tensor, batched: bool) -> list:
        """The initial state tensors, each (D·num_layers, N, size) (``_state_sizes``), zeros where not given."""
        name = type(self).__name__
        shapes = [(self.num_directions * self.num_layers, batch, size) for size in self._state_sizes()]
        count = self._kind.states
        if hx is None:
            return [creation.zeros(*shape, dtype=like.dtype, device=like.device) for shape in shapes]
        if count == 1:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{name}: hx must be a Tensor, got {type(hx).__name__}")
            states = [hx]
        else:
            if not isinstance(hx, tuple | list) or len(hx) != count:
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            states = list(hx)
        names = ("h_0", "c_0")
        ready = []
        for state_name, state, shape in zip(names, states, shapes):
            if not isinstance(state, Tensor):
                raise TypeError(f"{name}: {state_name} must be a Tensor, got {type(state).__name__}")
            if not batched:
                if state.ndim != 2:
                    raise ValueError(f"{name}: for unbatched input {state_name} must be 2-D "
                                     f"{(shape[0], shape[2])}, got {state.shape}")
                state = state.unsqueeze(1)
            _check_shape(name, state_name, state, shape)
            _check_dtype(name, state_name, state, like)
            ready.append(state)
        return ready

    def _running(self, lengths, steps: int, batch: int, like: Tensor):
        """A (L, N) bool array: which sequences are still running at each step (None: all, always)."""
        if lengths is None:
            return None
        values = _lengths_as_ints(type(self).__name__, lengths, steps, batch)
        if all(n == steps for n in values):
            return None
        with backend.device_of_array_context(like.array):
            return like.xp.arange(steps)[:, None] < like.xp.asarray(values)[None, :]

    def _run_composed(self, layer_input: Tensor, state: tuple, weights: tuple, reverse: bool, running) -> tuple:
        """One layer, one direction, step by step with Tensor ops: BPTT is the engine's."""
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        steps = layer_input.shape[0]
        if b_hh is not None and self._kind.name != "gru":  # b_ih and b_hh both enter a_t as they are: add them
            b_ih, b_hh = b_ih + b_hh, None  # once for all steps, not once per step (the GRU's b_hn sits inside r ⊙ ·)
        projected = self._per_step(_project(layer_input, w_ih, b_ih))  # all time steps in one product
        w_hh_t, w_hr_t = w_hh.T, (None if w_hr is None else w_hr.T)
        outputs = [None] * steps
        for t in reversed(range(steps)) if reverse else range(steps):
            new_state = self._step(projected[t], state, w_hh_t, b_hh, w_hr_t)
            keep = None if running is None else constant(running[t][:, None])
            state = tuple(_blend(keep, new, old) for new, old in zip(new_state, state))
            outputs[t] = _blend(keep, new_state[0], 0.0)  # finished sequences keep their state and output zeros
        return stack(outputs), state

    def _run_fused(self, layer_input: Tensor, state: tuple, weights: tuple, reverse: bool, running) -> tuple:
        """One layer, one direction, as one graph node whose backward is ``bptt.py``'s. With a projection
        (``proj_size``) the node runs the kind's ``projected`` variant, W_hr after the biases."""
        w_ih, w_hh, b_ih, b_hh, w_hr = weights
        present = tuple(w for w in (w_ih, w_hh, b_ih, b_hh) if w is not None)
        kind, extra = (self._kind, ()) if w_hr is None else (self._kind.projected, (w_hr,))
        results = FusedRecurrence.apply(layer_input, *state, *present, *extra, kind=kind, reverse=reverse,
                                        mask=running, has_bias=len(present) == 4)
        return results[0], tuple(results[1:])

    def _time_major(self, input, lengths) -> tuple:  # noqa: A002
        """Check the input; return it as (L, N, input_size), the lengths (None: all full), whether it was
        batched, and the ``PackedSequence`` it came as (or None)."""
        name = type(self).__name__
        packed = input if isinstance(input, PackedSequence) else None
        if packed is not None:
            if lengths is not None:
                raise ValueError(f"{name}: lengths must be None for a PackedSequence input (its batch_sizes "
                                 f"hold the lengths), got lengths={lengths!r}")
            if not isinstance(packed.data, Tensor) or packed.data.ndim != 2:
                raise ValueError(f"{name}: expected a PackedSequence whose data has shape (total steps, "
                                 f"input_size={self.input_size}), got {getattr(packed.data, 'shape', packed.data)}")
            input, lengths = _packed_to_padded_and_lengths(packed)  # time-major, in the original batch order
        elif not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor or a PackedSequence, got {type(input).__name__}")
        elif input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected input of 3 dimensions (or 2, unbatched), got shape {input.shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[-1]} features (shape {input.shape}), "
                             f"expected input_size={self.input_size}")
        _check_dtype(name, "input", input, self.weight_ih_l0)
        batched = input.ndim == 3
        if not batched:
            return input.unsqueeze(1), lengths, False, None
        return (input.transpose(0, 1) if self.batch_first and packed is None else input), lengths, True, packed

    def forward(self, input: Tensor | PackedSequence, hx=None, lengths=None):  # noqa: A002
        """Run the whole sequence.

        ``input``: (L, N, input_size), or (N, L, input_size) with ``batch_first``, or
        (L, input_size) unbatched, or a ``PackedSequence`` (``nn.utils.rnn.pack_padded_sequence``;
        ``batch_first`` does not apply to it). ``hx``: (D·num_layers, N, H_out) initial state (a tuple
        (h_0, c_0) for the LSTM, c_0 (D·num_layers, N, H)), zeros if None; never batch-first, and for a
        packed input in the batch's original order, as in PyTorch. H_out is ``proj_size`` for an LSTM
        with a projection, else ``hidden_size``. ``lengths``: one integer per sequence of a padded
        batch; steps past a sequence's length leave its state alone, its outputs there are zero, and
        ``h_n`` holds its last real state (the reverse direction starts at each sequence's own last
        step). A packed input runs the same way, on its lengths.

        Returns ``output`` (L, N, D·H_out) (batch-first if asked; a ``PackedSequence`` packed as the
        input for a packed input) and ``h_n`` (D·num_layers, N, H_out), for the LSTM ``(h_n, c_n)``;
        the final states are in the batch's original order, also for a packed input.
        """
        x, lengths, batched, packed = self._time_major(input, lengths)
        steps, batch = x.shape[0], x.shape[1]
        states = [s.unbind(0) for s in self._initial_states(hx, batch, x, batched)]
        running = self._running(lengths, steps, batch, x)
        final_states = [[] for _ in states]
        run = self._run_fused if self.impl == "fused" and steps > 0 else self._run_composed

        layer_input = x
        for layer in range(self.num_layers):
            direction_outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                state = tuple(s[index] for s in states)
                if steps == 0:
                    outputs = x.new_zeros(0, batch, self._state_sizes()[0])
                else:
                    outputs, state = run(layer_input, state, self._weights(layer, direction), bool(direction), running)
                for collected, s in zip(final_states, state):
                    collected.append(s)
                direction_outputs.append(outputs)
            layer_input = direction_outputs[0] if len(direction_outputs) == 1 else cat(direction_outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = layer_input.dropout(self.dropout)

        output = layer_input
        finals = [stack(collected) for collected in final_states]
        if packed is not None:
            output = _padded_to_packed(output, packed)
        elif not batched:
            output, finals = output.squeeze(1), [f.squeeze(1) for f in finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (finals[0] if self._kind.states == 1 else tuple(finals))

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        for attribute, default in (("bias", True), ("batch_first", False), ("dropout", 0.0),
                                   ("bidirectional", False)):
            if getattr(self, attribute) != default:
                text += f", {attribute}={getattr(self, attribute)}"
        return text


class RNN(_RecurrentLayer):
    """Elman RNN over a sequence: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)
    (``nonlinearity="relu"`` for relu). See ``_RecurrentLayer.forward`` for the call."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, impl: str = "fused", *, proj_size: int = 0):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype, impl, proj_size=proj_size)  # one gate either way; proj_size>0 refused
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def _step(self, x_proj, state: tuple, w_hh_t, b_hh, w_hr_t=None) -> tuple:
        return (rnn_step(x_proj, state[0], w_hh_t, b_hh, self.nonlinearity),)


class LSTM(_RecurrentLayer):
    """Long short-term memory over a sequence (gates i, f, g, o; weights (4H, in)).
    Returns ``output, (h_n, c_n)``. The arguments are PyTorch's, in its order.

    ``proj_size=P`` (0 < P < hidden_size) projects each step's hidden state, as PyTorch's:
    h_t = (o ⊙ tanh(c_t)) W_hrᵀ with ``weight_hr_l{k}`` (P, H), so h (and each layer's output per
    direction) has P features, ``weight_hh`` is (4H, P), a next layer's input is P·D, h_0 is
    (D·num_layers, N, P) and c_0 stays (D·num_layers, N, H). Such a layer runs on either road, fused by
    default (``bptt_projected.lstm_proj_forward`` and ``lstm_proj_backward``, derived in docs/bptt.md section 3b)
    or ``impl="composed"``, like any other."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None, impl: str = "fused"):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype, impl, proj_size=proj_size)

    def _step(self, x_proj, state: tuple, w_hh_t, b_hh, w_hr_t=None) -> tuple:
        return lstm_step(x_proj, state[0], state[1], w_hh_t, b_hh, w_hr_t)


class GRU(_RecurrentLayer):
    """Gated recurrent unit over a sequence (gates r, z, n; weights (3H, in))."""

    mode = "GRU"

    def _step(self, x_proj, state: tuple, w_hh_t, b_hh, w_hr_t=None) -> tuple:
        return (gru_step(x_proj, state[0], w_hh_t, b_hh),)

    def _per_step(self, projected: Tensor):
        return split_gru_inputs(projected)  # each step's (r z, n) parts, cut once for the sequence
