"""Backpropagation through time, derived by hand, for the vanilla RNN, the LSTM and the GRU.

This is the second, independent road to the gradients of a recurrent layer (the first
is the autograd engine running over the composed cell in ``nn/recurrent_cells.py``); the
tests hold the two against each other and against finite differences. It is also the fast
road: a whole sequence is one graph node (``ops/recurrent.py``) instead of a dozen
nodes per time step. ``docs/bptt.md`` derives every equation used here.

Everything works on raw arrays through the array module ``xp`` (NumPy or CuPy), for
one layer in one direction. Shapes: input ``x`` (T, N, I), states (N, H), weights
``w_ih`` (G·H, I), ``w_hh`` (G·H, H), biases (G·H,) or None, ``mask`` (T, N) bool or None
(False where a sequence has ended: its state is carried unchanged and its output is 0).

Each kind of cell has a forward, which returns the outputs, the final state(s) and a
``cache`` (a NamedTuple: what the backward needs), and a backward, which walks time in
reverse. ``CELL_KINDS`` at the end is the table of the kinds that the layers look up.

Notation in the comments: ⊙ elementwise product, σ the sigmoid, primes for the new
state, dX for ∂L/∂X (the gradient of the loss with respect to X), m_t the mask at step t.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple


def _sigmoid(xp, a):
    """σ(a) = (1 + tanh(a/2)) / 2: one transcendental, no overflow. (The Sigmoid op keeps
    relative accuracy far in the negative tail; a gate needs only absolute accuracy.)"""
    return 0.5 * (1 + xp.tanh(0.5 * a))


def _time_order(steps: int, reverse: bool):
    """The order in which the forward processes the steps; the backward walks it reversed."""
    return range(steps - 1, -1, -1) if reverse else range(steps)


# ---------------------------------------------------------------- masks (docs/bptt.md, section 5)
# With no mask every helper returns its input untouched: the unmasked walk pays nothing.
def _keep(mask, steps: int, dtype=None):
    """m_t for every step t, as ``keep[t]`` (N, 1): the sequences still running. Bool in the forward,
    where ``where`` blends (so NaN in padding cannot leak in), float (``dtype``) in the backward.
    Without a mask, None at every step: all sequences run."""
    if mask is None:
        return [None] * steps
    columns = mask[:, :, None]
    return columns if dtype is None else columns.astype(dtype)


def _blend(xp, k, new, old):
    """Forward: ``new`` for the running sequences, ``old`` for the ended ones: m_t ⊙ new + (1 - m_t) ⊙ old."""
    return new if k is None else xp.where(k, new, old)


def _masked(k, grad):
    """Backward: m_t ⊙ grad, the part of a gradient that reaches the cell (zero at a padded step)."""
    return grad if k is None else k * grad


def _plus_carried(k, through_cell, carried):
    """Backward: g_{t-1} = (the cell's part) + (1 - m_t) ⊙ g_t, what a padded step passes on unchanged."""
    return through_cell if k is None else through_cell + (1 - k) * carried


# ---------------------------------------------------------------- the projections, all steps at once
def _project_inputs(x, w_ih, b_ih):
    """x_t W_ihᵀ + b_ih for every t at once: one (T·N, I) x (I, G·H) matrix product."""
    steps, batch, _ = x.shape
    projected = (x.reshape(steps * batch, -1) @ w_ih.T).reshape(steps, batch, -1)
    return projected if b_ih is None else projected + b_ih


def _hidden_gradients(d_hidden_projection, h_prev, has_bias: bool):
    """From d(h_{t-1} W_hhᵀ + b_hh) for all t: dW_hh = Σ_t dQ_tᵀ h_{t-1}, db_hh = Σ dQ, as one product."""
    steps, batch, _ = h_prev.shape
    flat = d_hidden_projection.reshape(steps * batch, -1)
    return flat.T @ h_prev.reshape(steps * batch, -1), (flat.sum(axis=0) if has_bias else None)


def _input_gradients(x, w_ih, d_projected, has_bias: bool):
    """From d(x W_ihᵀ + b_ih) for all t: dx = d_proj W_ih, dW_ih = Σ_t d_projᵀ x, db_ih = Σ d_proj."""
    steps, batch, _ = x.shape
    flat = d_projected.reshape(steps * batch, -1)
    dx = (flat @ w_ih).reshape(x.shape)
    dw_ih = flat.T @ x.reshape(steps * batch, -1)
    db_ih = flat.sum(axis=0) if has_bias else None
    return dx, dw_ih, db_ih


# ---------------------------------------------------------------- vanilla RNN
class RNNCache(NamedTuple):
    """What ``rnn_backward`` needs from ``rnn_forward``."""

    x: Any  # (T, N, I), the layer's input
    w_ih: Any
    w_hh: Any
    has_b_ih: bool
    has_b_hh: bool
    reverse: bool  # time ran backwards
    mask: Any  # (T, N) bool, or None: every step of every sequence is real
    h_prev: Any  # (T, N, H): at step t, the state h_{t-1} that step started from
    activated: Any  # (T, N, H): φ(a_t), the cell's new state (before the mask)
    nonlinearity: str  # φ: "tanh" or "relu"


def rnn_forward(xp, x, h0, w_ih, w_hh, b_ih, b_hh, reverse=False, mask=None, nonlinearity="tanh"):
    """h_t = φ(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), φ = tanh or relu.

    Returns ``outputs`` (T, N, H), ``h_n`` (N, H) and the ``cache`` that ``rnn_backward`` needs.
    """
    steps = x.shape[0]
    projected = _project_inputs(x, w_ih, b_ih)
    outputs = xp.zeros((steps,) + h0.shape, dtype=x.dtype)
    h_prev, activated = xp.zeros_like(outputs), xp.zeros_like(outputs)
    keep = _keep(mask, steps)
    h, w_hh_t = h0, w_hh.T
    for t in _time_order(steps, reverse):
        h_prev[t] = h
        a = projected[t] + h @ w_hh_t
        if b_hh is not None:
            a = a + b_hh
        h_new = activated[t] = xp.tanh(a) if nonlinearity == "tanh" else xp.maximum(a, 0)
        k = keep[t]
        h, outputs[t] = _blend(xp, k, h_new, h), _blend(xp, k, h_new, 0)
    cache = RNNCache(x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None, has_b_hh=b_hh is not None,
                     reverse=reverse, mask=mask, h_prev=h_prev, activated=activated, nonlinearity=nonlinearity)
    return outputs, h, cache


def rnn_backward(xp, cache: RNNCache, d_outputs, d_h_n):
    """Gradients (dx, dh0, dW_ih, dW_hh, db_ih, db_hh) of the RNN, walking time backwards."""
    steps, activated, w_hh = len(cache.x), cache.activated, cache.w_hh
    keep = _keep(cache.mask, steps, cache.x.dtype)
    d_projected = xp.zeros_like(activated)
    dh = d_h_n  # dL/dh_t, everything that flows into h_t from later steps and h_n
    for t in reversed(_time_order(steps, cache.reverse)):
        k = keep[t]
        d_new = _masked(k, dh + d_outputs[t])  # into φ(a_t)
        # φ'(a): 1 - tanh²(a) from the output itself; relu: 1 where the output is positive
        da = d_new * (1 - activated[t] ** 2) if cache.nonlinearity == "tanh" else d_new * (activated[t] > 0)
        d_projected[t] = da  # a_t = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh: both projections get da
        dh = _plus_carried(k, da @ w_hh, dh)  # dh_{t-1}: through W_hh, and carried
    dx, dw_ih, db_ih = _input_gradients(cache.x, cache.w_ih, d_projected, cache.has_b_ih)
    dw_hh, db_hh = _hidden_gradients(d_projected, cache.h_prev, cache.has_b_hh)  # dW_hh = Σ_t daᵀ h_{t-1}
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


# ---------------------------------------------------------------- LSTM
class LSTMCache(NamedTuple):
    """What ``lstm_backward`` needs from ``lstm_forward``."""

    x: Any  # (T, N, I), the layer's input
    w_ih: Any
    w_hh: Any
    has_b_ih: bool
    has_b_hh: bool
    reverse: bool  # time ran backwards
    mask: Any  # (T, N) bool, or None: every step of every sequence is real
    h_prev: Any  # (T, N, H): at step t, the state h_{t-1} that step started from
    c_prev: Any  # (T, N, H): ... and the cell c_{t-1}
    gates: Any  # (T, N, 4H): the activated gates i, f, g, o side by side
    tanh_c: Any  # (T, N, H): tanh(c_t) of the cell's new c_t (before the mask)


def lstm_forward(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False, mask=None):
    """PyTorch's LSTM, gates in the order i, f, g, o:

        [a_i, a_f, a_g, a_o] = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh
        i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
        c_t = f ⊙ c_{t-1} + i ⊙ g,    h_t = o ⊙ tanh(c_t)

    Returns ``outputs`` (T, N, H), ``h_n``, ``c_n`` and the ``cache``.
    """
    steps, hidden = x.shape[0], h0.shape[1]
    projected = _project_inputs(x, w_ih, b_ih)
    outputs = xp.zeros((steps,) + h0.shape, dtype=x.dtype)
    h_prev, c_prev, tanh_c = xp.zeros_like(outputs), xp.zeros_like(outputs), xp.zeros_like(outputs)
    gates = xp.zeros((steps, h0.shape[0], 4 * hidden), dtype=x.dtype)  # activated i, f, g, o
    keep = _keep(mask, steps)
    h, c, w_hh_t = h0, c0, w_hh.T
    for t in _time_order(steps, reverse):
        h_prev[t], c_prev[t] = h, c
        a = projected[t] + h @ w_hh_t
        if b_hh is not None:
            a = a + b_hh
        gates[t][:, : 2 * hidden] = _sigmoid(xp, a[:, : 2 * hidden])  # i and f, side by side
        gates[t][:, 2 * hidden : 3 * hidden] = xp.tanh(a[:, 2 * hidden : 3 * hidden])
        gates[t][:, 3 * hidden :] = _sigmoid(xp, a[:, 3 * hidden :])
        i, f = gates[t][:, :hidden], gates[t][:, hidden : 2 * hidden]
        g, o = gates[t][:, 2 * hidden : 3 * hidden], gates[t][:, 3 * hidden :]
        c_new = f * c + i * g
        tanh_c[t] = xp.tanh(c_new)
        h_new = o * tanh_c[t]
        k = keep[t]
        h, c, outputs[t] = _blend(xp, k, h_new, h), _blend(xp, k, c_new, c), _blend(xp, k, h_new, 0)
    cache = LSTMCache(x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None, has_b_hh=b_hh is not None,
                      reverse=reverse, mask=mask, h_prev=h_prev, c_prev=c_prev, gates=gates, tanh_c=tanh_c)
    return outputs, h, c, cache


def lstm_backward(xp, cache: LSTMCache, d_outputs, d_h_n, d_c_n):
    """Gradients (dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh) of the LSTM."""
    steps, hidden, w_hh = len(cache.x), cache.h_prev.shape[2], cache.w_hh
    gates, c_prev, tanh_c = cache.gates, cache.c_prev, cache.tanh_c
    keep = _keep(cache.mask, steps, cache.x.dtype)
    d_projected = xp.zeros_like(gates)
    dh, dc = d_h_n, d_c_n  # dL/dh_t and dL/dc_t from everything later
    for t in reversed(_time_order(steps, cache.reverse)):
        k = keep[t]
        i, f = gates[t][:, :hidden], gates[t][:, hidden : 2 * hidden]
        g, o = gates[t][:, 2 * hidden : 3 * hidden], gates[t][:, 3 * hidden :]
        d_h_new = _masked(k, dh + d_outputs[t])
        d_c_carried = _masked(k, dc)
        do = d_h_new * tanh_c[t]  # h_t = o ⊙ tanh(c_t)
        d_c_new = d_c_carried + d_h_new * o * (1 - tanh_c[t] ** 2)  # ... and through tanh(c_t)
        di = d_c_new * g  # c_t = f ⊙ c_{t-1} + i ⊙ g
        dg = d_c_new * i
        df = d_c_new * c_prev[t]
        da = d_projected[t]  # back through the gate nonlinearities: σ' = σ(1-σ), tanh' = 1 - tanh²
        da[:, :hidden] = di * i * (1 - i)
        da[:, hidden : 2 * hidden] = df * f * (1 - f)
        da[:, 2 * hidden : 3 * hidden] = dg * (1 - g * g)
        da[:, 3 * hidden :] = do * o * (1 - o)
        dh = _plus_carried(k, da @ w_hh, dh)  # dh_{t-1}
        dc = _plus_carried(k, d_c_new * f, dc)  # dc_{t-1}: the forget gate's path
    dx, dw_ih, db_ih = _input_gradients(cache.x, cache.w_ih, d_projected, cache.has_b_ih)
    dw_hh, db_hh = _hidden_gradients(d_projected, cache.h_prev, cache.has_b_hh)  # the gates see h_{t-1} W_hhᵀ as is
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh


# ---------------------------------------------------------------- GRU
class GRUCache(NamedTuple):
    """What ``gru_backward`` needs from ``gru_forward``."""

    x: Any  # (T, N, I), the layer's input
    w_ih: Any
    w_hh: Any
    has_b_ih: bool
    has_b_hh: bool
    reverse: bool  # time ran backwards
    mask: Any  # (T, N) bool, or None: every step of every sequence is real
    h_prev: Any  # (T, N, H): at step t, the state h_{t-1} that step started from
    q_n: Any  # (T, N, H): q_n = h_{t-1} W_hnᵀ + b_hn, the hidden part of the candidate, before r
    gates: Any  # (T, N, 3H): r, z and the candidate n side by side


def gru_forward(xp, x, h0, w_ih, w_hh, b_ih, b_hh, reverse=False, mask=None):
    """PyTorch's GRU, gates in the order r, z, n:

        [x_r, x_z, x_n] = x_t W_ihᵀ + b_ih,    [q_r, q_z, q_n] = h_{t-1} W_hhᵀ + b_hh
        r = σ(x_r + q_r),  z = σ(x_z + q_z),  n = tanh(x_n + r ⊙ q_n)
        h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

    Returns ``outputs`` (T, N, H), ``h_n`` and the ``cache``.
    """
    steps, hidden = x.shape[0], h0.shape[1]
    projected = _project_inputs(x, w_ih, b_ih)
    outputs = xp.zeros((steps,) + h0.shape, dtype=x.dtype)
    h_prev, q_n = xp.zeros_like(outputs), xp.zeros_like(outputs)
    gates = xp.zeros((steps, h0.shape[0], 3 * hidden), dtype=x.dtype)  # activated r, z, n
    keep = _keep(mask, steps)
    h, w_hh_t = h0, w_hh.T
    for t in _time_order(steps, reverse):
        h_prev[t] = h
        hp = h @ w_hh_t
        if b_hh is not None:
            hp = hp + b_hh
        xr, xz, xn = projected[t][:, :hidden], projected[t][:, hidden : 2 * hidden], projected[t][:, 2 * hidden :]
        r = _sigmoid(xp, xr + hp[:, :hidden])
        z = _sigmoid(xp, xz + hp[:, hidden : 2 * hidden])
        q_n[t] = hp[:, 2 * hidden :]
        n = xp.tanh(xn + r * q_n[t])
        gates[t] = xp.concatenate([r, z, n], axis=1)
        h_new = (1 - z) * n + z * h
        k = keep[t]
        h, outputs[t] = _blend(xp, k, h_new, h), _blend(xp, k, h_new, 0)
    cache = GRUCache(x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None, has_b_hh=b_hh is not None,
                     reverse=reverse, mask=mask, h_prev=h_prev, q_n=q_n, gates=gates)
    return outputs, h, cache


def gru_backward(xp, cache: GRUCache, d_outputs, d_h_n):
    """Gradients (dx, dh0, dW_ih, dW_hh, db_ih, db_hh) of the GRU."""
    steps, hidden, w_hh = len(cache.x), cache.h_prev.shape[2], cache.w_hh
    gates, h_prev, q_n = cache.gates, cache.h_prev, cache.q_n
    keep = _keep(cache.mask, steps, cache.x.dtype)
    d_projected = xp.zeros_like(gates)
    d_hidden_projection = xp.zeros_like(gates)  # differs from d_projected: r multiplies the n block
    dh = d_h_n
    for t in reversed(_time_order(steps, cache.reverse)):
        k = keep[t]
        r, z, n = gates[t][:, :hidden], gates[t][:, hidden : 2 * hidden], gates[t][:, 2 * hidden :]
        d_h_new = _masked(k, dh + d_outputs[t])
        dn = d_h_new * (1 - z)  # h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}
        dz = d_h_new * (h_prev[t] - n)
        d_an = dn * (1 - n * n)  # n = tanh(a_n), a_n = x_n + r ⊙ q_n
        dr = d_an * q_n[t]
        d_ar, d_az = dr * r * (1 - r), dz * z * (1 - z)
        d_projected[t] = xp.concatenate([d_ar, d_az, d_an], axis=1)  # x_r, x_z, x_n enter a_r, a_z, a_n as they are
        d_hp = d_hidden_projection[t]
        d_hp[:, : 2 * hidden] = d_projected[t][:, : 2 * hidden]
        d_hp[:, 2 * hidden :] = d_an * r  # q_n enters a_n multiplied by r
        dh_direct = d_hp @ w_hh + d_h_new * z  # through W_hh, and through z ⊙ h_{t-1}
        dh = _plus_carried(k, dh_direct, dh)
    dx, dw_ih, db_ih = _input_gradients(cache.x, cache.w_ih, d_projected, cache.has_b_ih)
    dw_hh, db_hh = _hidden_gradients(d_hidden_projection, h_prev, cache.has_b_hh)
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


# ---------------------------------------------------------------- the table of cell kinds
@dataclass(frozen=True)
class CellKind:
    """What differs between the kinds of recurrent cell, as data: the layers look a kind up
    here instead of branching on its name.

    ``forward(xp, x, *initial_states, w_ih, w_hh, b_ih, b_hh, reverse=, mask=)`` returns
    ``(outputs, *final_states, cache)``; ``backward(xp, cache, d_outputs, *d_final_states)``
    returns ``(dx, *d_initial_states, dW_ih, dW_hh, db_ih, db_hh)``: the gradients in the order
    of the forward's inputs.
    """

    name: str  # PyTorch's ``mode`` in lower case
    gates: int  # G: the gate blocks stacked in W_ih (G·H, I), W_hh (G·H, H) and the biases
    states: int  # the state tensors carried from step to step: 1 (h), or 2 (h, c) for the LSTM
    forward: Callable
    backward: Callable


CELL_KINDS = {
    kind.name: kind
    for kind in (
        CellKind("rnn_tanh", gates=1, states=1, forward=partial(rnn_forward, nonlinearity="tanh"),
                 backward=rnn_backward),
        CellKind("rnn_relu", gates=1, states=1, forward=partial(rnn_forward, nonlinearity="relu"),
                 backward=rnn_backward),
        CellKind("lstm", gates=4, states=2, forward=lstm_forward, backward=lstm_backward),
        CellKind("gru", gates=3, states=1, forward=gru_forward, backward=gru_backward),
    )
}
