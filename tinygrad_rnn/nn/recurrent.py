"""Recurrent cells and layers: RNN, LSTM, GRU, with PyTorch's equations, parameter
names and shapes, gate order and default initialisation, so weights move both ways.

Everything is written with Tensor ops (the "composed" road): backpropagation
through time is simply what the engine does with the graph these loops record.

The equations, for input x, previous state h (and cell c), σ the sigmoid, and
``W_ih``/``W_hh`` holding the gates' weights stacked in the order shown:

    RNN:   h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)            (or relu)
    LSTM:  i, f, g, o = σ(.), σ(.), tanh(.), σ(.) of x W_ihᵀ + b_ih + h W_hhᵀ + b_hh
           c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
    GRU:   r, z = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr), σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)
           n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)),   h' = (1 - z) ⊙ n + z ⊙ h
"""

from __future__ import annotations

import math

from .. import backend, creation
from ..autograd import constant
from ..ops.recurrent import FusedRecurrence
from ..tensor import Tensor, cat, stack, where
from . import init
from .module import Module
from .parameter import Parameter

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ---------------------------------------------------------------- one time step
# Each step takes the input already projected (x W_ihᵀ + b_ih): a layer computes that for
# all time steps in one matrix product, which is much faster than one product per step.
def rnn_step(x_proj: Tensor, h: Tensor, w_hh_t: Tensor, b_hh: Tensor | None, nonlinearity: str = "tanh") -> Tensor:
    """h' = tanh(x_proj + h W_hhᵀ + b_hh) (or relu); ``w_hh_t`` is W_hhᵀ."""
    pre = x_proj + h @ w_hh_t
    if b_hh is not None:
        pre = pre + b_hh
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def lstm_step(x_proj: Tensor, h: Tensor, c: Tensor, w_hh_t: Tensor, b_hh: Tensor | None) -> tuple:
    """(h', c') of the LSTM, gates in PyTorch's order i, f, g, o."""
    gates = x_proj + h @ w_hh_t
    if b_hh is not None:
        gates = gates + b_hh
    i, f, g, o = gates.chunk(4, -1)
    i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
    c_next = f * c + i * g
    return o * c_next.tanh(), c_next


def gru_step(x_proj: Tensor, h: Tensor, w_hh_t: Tensor, b_hh: Tensor | None) -> Tensor:
    """h' of the GRU, gates in PyTorch's order r, z, n; the reset gate r multiplies
    h W_hnᵀ + b_hn, after the product, as in PyTorch (and cuDNN)."""
    h_proj = h @ w_hh_t
    if b_hh is not None:
        h_proj = h_proj + b_hh
    x_r, x_z, x_n = x_proj.chunk(3, -1)
    h_r, h_z, h_n = h_proj.chunk(3, -1)
    r = (x_r + h_r).sigmoid()
    z = (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return (1 - z) * n + z * h


def _project(x: Tensor, w_ih: Tensor, b_ih: Tensor | None) -> Tensor:
    out = x @ w_ih.T
    return out if b_ih is None else out + b_ih


def _check_dtype(name: str, what: str, tensor: Tensor, weight: Tensor) -> None:
    if tensor.dtype != weight.dtype:
        # an integer model is no remedy (its init and optimizers are fractional): suggest it for floats only
        model = f"model.to({str(tensor.dtype)!r}) or " if tensor.dtype.kind == "f" else ""
        raise TypeError(
            f"{name}: {what} has dtype {tensor.dtype} but the parameters are {weight.dtype}; "
            f"convert {'one of them' if model else 'it'} (e.g. {model}{what}.to({str(weight.dtype)!r}))"
        )


def _check_shape(name: str, what: str, tensor: Tensor, expected: tuple) -> None:
    if tuple(tensor.shape) != tuple(expected):
        raise ValueError(f"{name}: expected {what} of shape {tuple(expected)}, got {tuple(tensor.shape)}")


def _lengths_as_ints(name: str, lengths, steps: int, batch: int) -> list:
    """``lengths`` (a list, integer tensor or integer array of shape (batch,)) as Python ints in
    [0, steps]. Anything else raises: a float would otherwise be cut to an int by one input form
    and compared as a float (running one step more) by another."""
    if isinstance(lengths, Tensor):
        host = backend.to_numpy(lengths.data)
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


class _RecurrentParameters(Module):
    """Creates ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (with a name suffix),
    all initialised U(-1/√H, 1/√H) as in PyTorch."""

    def _make_parameters(self, suffix: str, input_size: int, gates: int, bias: bool, device, dtype) -> None:
        hidden = self.hidden_size

        def empty(*shape):
            return Parameter(creation.zeros(*shape, dtype=dtype, device=device))

        self.register_parameter(f"weight_ih{suffix}", empty(gates * hidden, input_size))
        self.register_parameter(f"weight_hh{suffix}", empty(gates * hidden, hidden))
        self.register_parameter(f"bias_ih{suffix}", empty(gates * hidden) if bias else None)
        self.register_parameter(f"bias_hh{suffix}", empty(gates * hidden) if bias else None)

    def reset_parameters(self) -> None:
        """Every weight and bias U(-1/√hidden_size, 1/√hidden_size), PyTorch's default."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)


# ---------------------------------------------------------------- cells
class _CellBase(_RecurrentParameters):
    mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self._make_parameters("", input_size, GATES[self.mode], bias, device, dtype)
        self.reset_parameters()

    def _prepare(self, input: Tensor, states: tuple):  # noqa: A002
        """Batch an unbatched call, check shapes and dtypes, and default the states to zeros."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input of shape (batch, {self.input_size}) or ({self.input_size},), "
                             f"got {input.shape}")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
            states = tuple(s.unsqueeze(0) if s is not None else None for s in states)
        _check_shape(name, "input", input, (input.shape[0], self.input_size))
        _check_dtype(name, "input", input, self.weight_ih)
        ready = []
        for s in states:
            if s is None:
                s = creation.zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            _check_shape(name, "hidden state", s, (input.shape[0], self.hidden_size))
            ready.append(s)
        return input, ready, batched

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """One step of an Elman RNN: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu).

    ``cell(input, hx=None)`` with input (N, input_size) or (input_size,) returns h'.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype)  # one gate either way
        self.nonlinearity = nonlinearity
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, (hx,))
        h = rnn_step(_project(x, self.weight_ih, self.bias_ih), h, self.weight_hh.T, self.bias_hh, self.nonlinearity)
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    """One LSTM step (gates i, f, g, o). ``cell(input, (h, c))`` returns (h', c')."""

    mode = "LSTM"

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:  # noqa: A002
        x, (h, c), batched = self._prepare(input, hx if hx is not None else (None, None))
        h, c = lstm_step(_project(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh.T, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    """One GRU step (gates r, z, n). ``cell(input, hx=None)`` returns h'."""

    mode = "GRU"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, (hx,))
        h = gru_step(_project(x, self.weight_ih, self.bias_ih), h, self.weight_hh.T, self.bias_hh)
        return h if batched else h.squeeze(0)


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

    mode = "RNN_TANH"

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
                self._make_parameters(suffix, layer_input, GATES[self.mode], bias, device, dtype)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _weights(self, layer: int, direction: int) -> tuple:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(getattr(self, f"{kind}{suffix}") for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _step(self, x_proj, state: tuple, w_hh_t, b_hh) -> tuple:
        """One time step on the state tuple: (h,) or, for the LSTM, (h, c)."""
        if self.mode == "LSTM":
            return lstm_step(x_proj, state[0], state[1], w_hh_t, b_hh)
        if self.mode == "GRU":
            return (gru_step(x_proj, state[0], w_hh_t, b_hh),)
        return (rnn_step(x_proj, state[0], w_hh_t, b_hh, "relu" if self.mode == "RNN_RELU" else "tanh"),)

    def _initial_states(self, hx, batch: int, like: Tensor, batched: bool) -> list:
        """The initial state tensors, each (D·num_layers, N, H), zeros where not given."""
        name = type(self).__name__
        shape = (self.num_directions * self.num_layers, batch, self.hidden_size)
        count = 2 if self.mode == "LSTM" else 1
        if hx is None:
            return [creation.zeros(*shape, dtype=like.dtype, device=like.device) for _ in range(count)]
        if self.mode == "LSTM":
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            states = list(hx)
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{name}: hx must be a Tensor, got {type(hx).__name__}")
            states = [hx]
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
        with backend.device_of_array_context(like.data):
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
            if running is None:
                state, outputs[t] = new_state, new_state[0]
            else:  # finished sequences keep their state and output zeros
                keep = constant(running[t][:, None])
                state = tuple(where(keep, new, old) for new, old in zip(new_state, state))
                outputs[t] = where(keep, new_state[0], 0.0)
        return stack(outputs), state

    def _run_fused(self, layer_input: Tensor, state: tuple, weights: tuple, reverse: bool, running) -> tuple:
        """One layer, one direction, as one graph node whose backward is ``bptt.py``'s."""
        present = tuple(w for w in weights if w is not None)
        results = FusedRecurrence.apply(layer_input, *state, *present, mode=self.mode.lower(), reverse=reverse,
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
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])

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


class LSTM(_RecurrentLayer):
    """Long short-term memory over a sequence (gates i, f, g, o; weights (4H, in)).
    Returns ``output, (h_n, c_n)``."""

    mode = "LSTM"


class GRU(_RecurrentLayer):
    """Gated recurrent unit over a sequence (gates r, z, n; weights (3H, in))."""

    mode = "GRU"

