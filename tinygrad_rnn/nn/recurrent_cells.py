"""Recurrent cells: RNNCell, LSTMCell, GRUCell, and the pieces the layers of ``recurrent.py``
share with them: one time step of each kind written with Tensor ops, and the parameters.
PyTorch's equations, parameter names and shapes, gate order and default initialisation,
so weights move both ways.

Everything is written with Tensor ops (the "composed" road): backpropagation
through time is simply what the engine does with the graph these steps record.

The equations, for input x, previous state h (and cell c), σ the sigmoid, and
``W_ih``/``W_hh`` holding the gates' weights stacked in the order shown:

    RNN:   h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)            (or relu)
    LSTM:  i, f, g, o = σ(.), σ(.), tanh(.), σ(.) of x W_ihᵀ + b_ih + h W_hhᵀ + b_hh
           c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
           (with a projection, the layers' ``proj_size``: h' = (o ⊙ tanh(c')) W_hrᵀ)
    GRU:   r, z = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr), σ(x W_izᵀ + b_iz + h W_hzᵀ + b_hz)
           n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)),   h' = (1 - z) ⊙ n + z ⊙ h
"""

from __future__ import annotations

import math

from .. import bptt, creation
from ..functional_forms import addcmul
from ..linalg_forms import addmm
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter


# ---------------------------------------------------------------- one time step
# Each step takes the input already projected (x W_ihᵀ + b_ih): a layer computes that for
# all time steps in one matrix product, which is much faster than one product per step.
def rnn_step(x_proj: Tensor, h: Tensor, w_hh_t: Tensor, b_hh: Tensor | None, nonlinearity: str = "tanh") -> Tensor:
    """h' = tanh(x_proj + h W_hhᵀ + b_hh) (or relu); ``w_hh_t`` is W_hhᵀ."""
    pre = _plus_product(x_proj, h, w_hh_t)
    if b_hh is not None:
        pre = pre + b_hh
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def lstm_step(x_proj: Tensor, h: Tensor, c: Tensor, w_hh_t: Tensor, b_hh: Tensor | None,
              w_hr_t: Tensor | None = None) -> tuple:
    """(h', c') of the LSTM, gates in PyTorch's order i, f, g, o. With ``w_hr_t`` (W_hrᵀ, (H, P): an
    LSTM with ``proj_size=P``), h' = (o ⊙ tanh(c')) W_hrᵀ has P features (and W_hh has P columns)."""
    gates = _plus_product(x_proj, h, w_hh_t)
    if b_hh is not None:
        gates = gates + b_hh
    hidden = gates.shape[-1] // 4
    # σ of all four blocks in one op (the g block's is unused), tanh of the g block alone: four
    # nodes per step where a σ per gate would make five
    i, f, _, o = gates.sigmoid().chunk(4, -1)
    g = gates[..., 2 * hidden : 3 * hidden].tanh()
    c_next = addcmul(f * c, i, g)  # f ⊙ c + i ⊙ g in two nodes
    h_next = o * c_next.tanh()
    return (h_next if w_hr_t is None else h_next @ w_hr_t), c_next


def gru_step(x_proj: Tensor | tuple, h: Tensor, w_hh_t: Tensor, b_hh: Tensor | None) -> Tensor:
    """h' of the GRU, gates in PyTorch's order r, z, n; the reset gate r multiplies
    h W_hnᵀ + b_hn, after the product, as in PyTorch (and cuDNN). ``x_proj`` may come already
    cut into its (r z, n) parts (``split_gru_inputs``)."""
    h_proj = h @ w_hh_t if b_hh is None else _plus_product(b_hh, h, w_hh_t)
    hidden = h_proj.shape[-1] // 3
    x_rz, x_n = x_proj if isinstance(x_proj, tuple) else x_proj.split([2 * hidden, hidden], -1)
    h_rz, h_n = h_proj.split([2 * hidden, hidden], -1)
    r, z = (x_rz + h_rz).sigmoid().chunk(2, -1)  # r and z in one add and one σ
    n = addcmul(x_n, r, h_n).tanh()  # x_n + r ⊙ h_n in one node
    return addcmul(n, z, h - n)  # n + z ⊙ (h - n) = (1 - z) ⊙ n + z ⊙ h, in two nodes instead of four


def split_gru_inputs(projected: Tensor) -> list:
    """The projected inputs of all time steps, (T, N, 3H), as one ``(x_rz, x_n)`` pair per step for
    ``gru_step``: cut once for the whole sequence (two nodes), not once per step."""
    hidden = projected.shape[-1] // 3
    rz, n = projected.split([2 * hidden, hidden], -1)
    return list(zip(rz.unbind(0), n.unbind(0)))


def _plus_product(base: Tensor, h: Tensor, w_t: Tensor) -> Tensor:
    """``base + h @ w_t``: one node (``addmm``) for a batch of states, two for a single unbatched one."""
    return addmm(base, h, w_t) if h.ndim == 2 and base.ndim <= 2 else base + h @ w_t


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


class _RecurrentParameters(Module):
    """Creates ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (with a name suffix),
    all initialised U(-1/√H, 1/√H) as in PyTorch.

    ``mode`` is PyTorch's name for the kind of cell ("RNN_TANH", "RNN_RELU", "LSTM", "GRU");
    everything that depends on it is looked up in ``bptt.CELL_KINDS`` through ``_kind``."""

    mode = "RNN_TANH"

    @property
    def _kind(self) -> bptt.CellKind:
        """This module's kind of cell: its number of gates and of states, its fused forward and backward."""
        return bptt.CELL_KINDS[self.mode.lower()]

    def _make_parameters(self, suffix: str, input_size: int, bias: bool, device, dtype, proj_size: int = 0) -> None:
        """PyTorch's parameters, in its order: ``weight_ih`` (G·H, in), ``weight_hh`` (G·H, H), the biases
        (G·H,) (None without ``bias``) and, with ``proj_size=P`` (LSTM only), ``weight_hr`` (P, H), where
        ``weight_hh`` is then (G·H, P) since the state it multiplies has P features."""
        hidden, gates = self.hidden_size, self._kind.gates

        def empty(*shape):
            return Parameter(creation.zeros(*shape, dtype=dtype, device=device))

        self.register_parameter(f"weight_ih{suffix}", empty(gates * hidden, input_size))
        self.register_parameter(f"weight_hh{suffix}", empty(gates * hidden, proj_size or hidden))
        self.register_parameter(f"bias_ih{suffix}", empty(gates * hidden) if bias else None)
        self.register_parameter(f"bias_hh{suffix}", empty(gates * hidden) if bias else None)
        if proj_size:
            self.register_parameter(f"weight_hr{suffix}", empty(proj_size, hidden))

    def reset_parameters(self) -> None:
        """Every weight and bias U(-1/√hidden_size, 1/√hidden_size), PyTorch's default."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)


# ---------------------------------------------------------------- cells
class _CellBase(_RecurrentParameters):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self._make_parameters("", input_size, bias, device, dtype)
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
