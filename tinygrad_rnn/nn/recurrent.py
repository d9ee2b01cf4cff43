"""Recurrent layers: RNN, LSTM, GRU over whole sequences, multi-layer and optionally
bidirectional, with ``lengths`` for padded batches; PyTorch's parameter names and shapes,
so weights move both ways. The cells, the composed time steps and the parameters are in
``recurrent_cells.py``.

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
from .recurrent_cells import _check_dtype, _check_shape, _project, _RecurrentParameters, gru_step, lstm_step, rnn_step


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
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, impl: str = "fused"):
        super().__init__()
        name = type(self).__name__
        if impl not in ("fused", "composed"):
            raise ValueError(f"{name}: impl must be 'fused' or 'composed', got {impl!r}")
        self.impl = impl
        if num_layers < 1:
            raise ValueError(f"{name}: num_layers must be at least 1, got {num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, dropout, bidirectional
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                self._make_parameters(suffix, layer_input, bias, device, dtype)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _weights(self, layer: int, direction: int) -> tuple:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(getattr(self, f"{kind}{suffix}") for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _step(self, x_proj, state: tuple, w_hh_t, b_hh) -> tuple:
        """One composed time step on the state tuple: (h,) or, for the LSTM, (h, c). Each layer defines it."""
        raise NotImplementedError

    def _initial_states(self, hx, batch: int, like: Tensor, batched: bool) -> list:
        """The initial state tensors, each (D·num_layers, N, H), zeros where not given."""
        name = type(self).__name__
        shape = (self.num_directions * self.num_layers, batch, self.hidden_size)
        count = self._kind.states
        if hx is None:
            return [creation.zeros(*shape, dtype=like.dtype, device=like.device) for _ in range(count)]
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
        for state_name, state in zip(names, states):
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
        w_ih, w_hh, b_ih, b_hh = weights
        steps = layer_input.shape[0]
        projected = _project(layer_input, w_ih, b_ih).unbind(0)  # all time steps in one product
        w_hh_t = w_hh.T
        outputs = [None] * steps
        for t in reversed(range(steps)) if reverse else range(steps):
            new_state = self._step(projected[t], state, w_hh_t, b_hh)
            keep = None if running is None else constant(running[t][:, None])
            state = tuple(_blend(keep, new, old) for new, old in zip(new_state, state))
            outputs[t] = _blend(keep, new_state[0], 0.0)  # finished sequences keep their state and output zeros
        return stack(outputs), state

    def _run_fused(self, layer_input: Tensor, state: tuple, weights: tuple, reverse: bool, running) -> tuple:
        """One layer, one direction, as one graph node whose backward is ``bptt.py``'s."""
        present = tuple(w for w in weights if w is not None)
        results = FusedRecurrence.apply(layer_input, *state, *present, kind=self._kind, reverse=reverse,
                                        mask=running, has_bias=len(present) == 4)
        return results[0], tuple(results[1:])

    def forward(self, input: Tensor, hx=None, lengths=None):  # noqa: A002
        """Run the whole sequence.

        ``input``: (L, N, input_size), or (N, L, input_size) with ``batch_first``, or
        (L, input_size) unbatched. ``hx``: (D·num_layers, N, H) initial state (a tuple
        (h_0, c_0) for the LSTM), zeros if None; never batch-first. ``lengths``: one
        integer per sequence of a padded batch; steps past a sequence's length leave its
        state alone, its outputs there are zero, and ``h_n`` holds its last real state
        (the reverse direction starts at each sequence's own last step).

        Returns ``output`` (L, N, D·H) (batch-first if asked) and ``h_n`` (D·num_layers, N, H),
        for the LSTM ``(h_n, c_n)``.
        """
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: expected input of 3 dimensions (or 2, unbatched), got shape {input.shape}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: input has {input.shape[-1]} features (shape {input.shape}), "
                             f"expected input_size={self.input_size}")
        _check_dtype(name, "input", input, self.weight_ih_l0)
        batched = input.ndim == 3
        x = input if not batched else (input.transpose(0, 1) if self.batch_first else input)
        if not batched:
            x = x.unsqueeze(1)
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
                    outputs = x.new_zeros(0, batch, self.hidden_size)
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
        if not batched:
            output, finals = output.squeeze(1), [f.squeeze(1) for f in finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (finals[0] if self._kind.states == 1 else tuple(finals))

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
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
                 device=None, dtype=None, impl: str = "fused"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype, impl)  # one gate either way
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def _step(self, x_proj, state: tuple, w_hh_t, b_hh) -> tuple:
        return (rnn_step(x_proj, state[0], w_hh_t, b_hh, self.nonlinearity),)


class LSTM(_RecurrentLayer):
    """Long short-term memory over a sequence (gates i, f, g, o; weights (4H, in)).
    Returns ``output, (h_n, c_n)``."""

    mode = "LSTM"

    def _step(self, x_proj, state: tuple, w_hh_t, b_hh) -> tuple:
        return lstm_step(x_proj, state[0], state[1], w_hh_t, b_hh)


class GRU(_RecurrentLayer):
    """Gated recurrent unit over a sequence (gates r, z, n; weights (3H, in))."""

    mode = "GRU"

    def _step(self, x_proj, state: tuple, w_hh_t, b_hh) -> tuple:
        return (gru_step(x_proj, state[0], w_hh_t, b_hh),)
