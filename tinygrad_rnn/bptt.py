"""Backpropagation through time, derived by hand, for the vanilla RNN, the LSTM (also with a
projection) and the GRU.

This is the second, independent road to the gradients of a recurrent layer (the first
is the autograd engine running over the composed cell in ``nn/recurrent_cells.py``); the
tests hold the two against each other and against finite differences. It is also the fast
road: a whole sequence is one graph node (``ops/recurrent.py``) instead of a dozen
nodes per time step. ``docs/bptt.md`` derives every equation used here.

Everything works on raw arrays through the array module ``xp`` (NumPy or CuPy), for
one layer in one direction. Shapes: input ``x`` (T, N, I), states (N, H), weights
``w_ih`` (G·H, I), ``w_hh`` (G·H, H), biases (G·H,) or None, ``mask`` (T, N) bool or None
(False where a sequence has ended: its state is carried unchanged and its output is 0).
The LSTM with a projection (``proj_size=P``, "lstm_proj") carries h of P features, with
``w_hh`` (4H, P) and ``w_hr`` (P, H); its c keeps H.

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


# ---------------------------------------------------------------- gates: one tanh for all of them
# σ(a) = ½ + ½·tanh(a/2). So every gate is ``scale·tanh(scale·a) + shift`` with (scale, shift) =
# (½, ½) for a sigmoid gate and (1, 0) for a tanh gate. The forward multiplies the weights' gate
# rows by ``scale`` once per call, so at each step one tanh, one product and one sum activate all
# gates side by side (no overflow: tanh saturates). The backward needs no scale: it reads the
# derivatives off the activated gates, σ' = σ(1 - σ) and tanh' = 1 - tanh².
def _gate_constants(xp, blocks: str, hidden: int, dtype):
    """``scale`` and ``shift`` (G·H,) for gate blocks named by letters: ``s`` sigmoid, ``t`` tanh."""
    scale = xp.concatenate([xp.full(hidden, 0.5 if b == "s" else 1.0, dtype=dtype) for b in blocks])
    shift = xp.concatenate([xp.full(hidden, 0.5 if b == "s" else 0.0, dtype=dtype) for b in blocks])
    return scale, shift


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


def _new_state(xp, k, new, old, output):
    """Forward, after a step: write y_t (zero where the sequence ended) into ``output`` and return
    the state carried on, h_t = m_t ⊙ new + (1 - m_t) ⊙ old (the output's memory when unmasked)."""
    if k is None:
        output[...] = new
        return output
    output[...] = xp.where(k, new, 0)
    return xp.where(k, new, old)


# ---------------------------------------------------------------- the projections, all steps at once
def _project_inputs(x, w_ih, b_ih):
    """x_t W_ihᵀ + b_ih for every t at once: one (T·N, I) x (I, G·H) matrix product."""
    steps, batch, _ = x.shape
    projected = (x.reshape(steps * batch, -1) @ w_ih.T).reshape(steps, batch, -1)
    if b_ih is not None:
        projected += b_ih
    return projected


def _scaled_rows(weight, scale):
    """``weight`` with each gate row multiplied by ``scale`` (see "one tanh for all of them")."""
    return None if weight is None else weight * (scale[:, None] if weight.ndim == 2 else scale)


def _transposed(xp, w_hh, scale):
    """(W_hh, rows scaled)ᵀ as a contiguous array, made once per call: the per-step product
    h_{t-1} W_hhᵀ then reads memory in order (on a transposed view BLAS runs slower, and with
    several threads it splits these small products badly)."""
    return xp.ascontiguousarray(_scaled_rows(w_hh, scale).T)


def _hidden_gradients(d_hidden_projection, h_prev, has_bias: bool):
    """From d(h_{t-1} W_hhᵀ + b_hh) for all t: dW_hh = Σ_t dQ_tᵀ h_{t-1}, db_hh = Σ dQ, as one product."""
    steps, batch, _ = h_prev.shape
    flat = d_hidden_projection.reshape(steps * batch, -1)
    return flat.T @ h_prev.reshape(steps * batch, -1), (flat.sum(axis=0) if has_bias else None)


def _input_gradients(x, w_ih, d_projected, has_bias: bool, need_dx: bool = True):
    """From d(x W_ihᵀ + b_ih) for all t: dx = d_proj W_ih, dW_ih = Σ_t d_projᵀ x, db_ih = Σ d_proj.
    ``need_dx=False`` (the input wants no gradient, e.g. data) skips dx's product."""
    steps, batch, _ = x.shape
    flat = d_projected.reshape(steps * batch, -1)
    dx = (flat @ w_ih).reshape(x.shape) if need_dx else None
    dw_ih = flat.T @ x.reshape(steps * batch, -1)
    db_ih = flat.sum(axis=0) if has_bias else None
    return dx, dw_ih, db_ih


def _both_biases(b_ih, b_hh):
    """b_ih + b_hh, or whichever exists: where both enter a_t as they are, they are added once."""
    if b_ih is None or b_hh is None:
        return b_ih if b_hh is None else b_hh
    return b_ih + b_hh


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
    activated = _project_inputs(x, w_ih, _both_biases(b_ih, b_hh))  # x_t W_ihᵀ + b_ih + b_hh, then φ(a_t) in place
    outputs, h_prev = xp.empty_like(activated), xp.empty_like(activated)
    keep = _keep(mask, steps)
    h, w_hh_t, hidden_part = h0, xp.ascontiguousarray(w_hh.T), xp.empty_like(h0)
    for t in _time_order(steps, reverse):
        h_prev[t] = h
        a = activated[t]
        a += xp.matmul(h, w_hh_t, out=hidden_part)  # a_t = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh
        if nonlinearity == "tanh":
            xp.tanh(a, out=a)
        else:
            xp.maximum(a, 0, out=a)
        h = _new_state(xp, keep[t], a, h, outputs[t])
    cache = RNNCache(x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None, has_b_hh=b_hh is not None,
                     reverse=reverse, mask=mask, h_prev=h_prev, activated=activated, nonlinearity=nonlinearity)
    return outputs, h.copy(), cache


def rnn_backward(xp, cache: RNNCache, d_outputs, d_h_n, need_dx=True):
    """Gradients (dx, dh0, dW_ih, dW_hh, db_ih, db_hh) of the RNN, walking time backwards."""
    steps, activated, w_hh = len(cache.x), cache.activated, cache.w_hh
    keep = _keep(cache.mask, steps, cache.x.dtype)
    # φ'(a_t) for every step at once (it does not depend on the gradient), read off the output:
    # 1 - tanh²(a) = 1 - h², and relu' = 1 where the output is positive. The walk multiplies in place.
    if cache.nonlinearity == "tanh":
        d_projected = 1 - activated * activated
    else:
        d_projected = (activated > 0).astype(activated.dtype)
    dh = d_h_n  # dL/dh_t, everything that flows into h_t from later steps and h_n
    for t in reversed(_time_order(steps, cache.reverse)):
        k = keep[t]
        d_new = _masked(k, dh + d_outputs[t])  # into φ(a_t)
        da = d_projected[t]
        da *= d_new  # da_t = d_new ⊙ φ'(a_t); a_t's terms x_t W_ihᵀ + b_ih and h_{t-1} W_hhᵀ + b_hh both get it
        dh = _plus_carried(k, da @ w_hh, dh)  # dh_{t-1}: through W_hh, and carried
    dx, dw_ih, db_ih = _input_gradients(cache.x, cache.w_ih, d_projected, cache.has_b_ih, need_dx)
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


def _lstm_cell(xp, a, h, c, w_hh_t, hidden_part, scale, shift, tanh_c_t):
    """One LSTM step up to its cell, in place. ``a`` holds the step's input part of the (scaled)
    pre-activations and becomes the activated gates [i, f, g, o]; tanh(c_t) is written into
    ``tanh_c_t``; returns c_t and the output gate o (both the plain and the projected LSTM use it)."""
    hidden = c.shape[1]
    a += xp.matmul(h, w_hh_t, out=hidden_part)  # + h_{t-1} W_hhᵀ
    xp.tanh(a, out=a)
    a *= scale
    a += shift  # i, f, o = σ(a_·) = ½ + ½ tanh(a_·/2); g = tanh(a_g)
    i, f, g, o = a[:, :hidden], a[:, hidden : 2 * hidden], a[:, 2 * hidden : 3 * hidden], a[:, 3 * hidden :]
    c_new = f * c
    c_new += i * g  # c_t = f ⊙ c_{t-1} + i ⊙ g
    xp.tanh(c_new, out=tanh_c_t)
    return c_new, o


def lstm_forward(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False, mask=None):
    """PyTorch's LSTM, gates in the order i, f, g, o:

        [a_i, a_f, a_g, a_o] = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh
        i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
        c_t = f ⊙ c_{t-1} + i ⊙ g,    h_t = o ⊙ tanh(c_t)

    Returns ``outputs`` (T, N, H), ``h_n``, ``c_n`` and the ``cache``.
    """
    steps, hidden = x.shape[0], h0.shape[1]
    scale, shift = _gate_constants(xp, "ssts", hidden, x.dtype)  # i, f, o sigmoid; g tanh
    # a_t's input part for every step at once (gate rows scaled), then the activated gates in place
    gates = _project_inputs(x, _scaled_rows(w_ih, scale), _scaled_rows(_both_biases(b_ih, b_hh), scale))
    w_hh_t = _transposed(xp, w_hh, scale)
    outputs = xp.empty((steps,) + h0.shape, dtype=x.dtype)
    h_prev, c_prev, tanh_c = xp.empty_like(outputs), xp.empty_like(outputs), xp.empty_like(outputs)
    keep = _keep(mask, steps)
    h, c, hidden_part = h0, c0, xp.empty_like(gates[0])
    for t in _time_order(steps, reverse):
        h_prev[t], c_prev[t] = h, c
        c_new, o = _lstm_cell(xp, gates[t], h, c, w_hh_t, hidden_part, scale, shift, tanh_c[t])
        k = keep[t]
        h = _new_state(xp, k, o * tanh_c[t], h, outputs[t])  # h_t = o ⊙ tanh(c_t)
        c = _blend(xp, k, c_new, c)
    cache = LSTMCache(x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None, has_b_hh=b_hh is not None,
                      reverse=reverse, mask=mask, h_prev=h_prev, c_prev=c_prev, gates=gates, tanh_c=tanh_c)
    return outputs, h.copy(), c, cache


def _lstm_factors(gates, c_prev, tanh_c):
    """Before the walk, for every step at once: the factors of the LSTM's gate gradients that do not
    depend on the gradient coming back through time. Each pre-activation's gradient is δc_t or
    δ(o ⊙ tanh c_t) (δh_t without a projection) times one of them:
      da_i = δc_t ⊙ g ⊙ i(1-i),  da_f = δc_t ⊙ c_{t-1} ⊙ f(1-f),  da_g = δc_t ⊙ i ⊙ (1-g²),
      da_o = δ(o ⊙ tanh c_t) ⊙ tanh(c_t) ⊙ o(1-o)   (σ' = σ(1-σ), tanh' = 1 - tanh², c_t = f ⊙ c_{t-1} + i ⊙ g)
    Returns ``d_projected`` (T, N, 4H), those factors block by block, and ``through_c`` (T, N, H),
    o ⊙ (1 - tanh²(c_t)): what δ(o ⊙ tanh c_t) is multiplied by on its way into c_t."""
    hidden = tanh_c.shape[-1]
    i, g, o = gates[..., :hidden], gates[..., 2 * hidden : 3 * hidden], gates[..., 3 * hidden :]
    d_projected = 1 - gates
    d_projected *= gates  # σ(1-σ): right for i, f, o; the g block is replaced below
    d_projected[..., :hidden] *= g
    d_projected[..., hidden : 2 * hidden] *= c_prev
    d_projected[..., 2 * hidden : 3 * hidden] = i * (1 - g * g)
    d_projected[..., 3 * hidden :] *= tanh_c
    through_c = o * (1 - tanh_c * tanh_c)
    return d_projected, through_c


def lstm_backward(xp, cache: LSTMCache, d_outputs, d_h_n, d_c_n, need_dx=True):
    """Gradients (dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh) of the LSTM."""
    steps, hidden, w_hh = len(cache.x), cache.h_prev.shape[2], cache.w_hh
    gates, c_prev, tanh_c = cache.gates, cache.c_prev, cache.tanh_c
    batch = gates.shape[1]
    f = gates[..., hidden : 2 * hidden]  # the forget gate, for dc_{t-1}
    keep = _keep(cache.mask, steps, cache.x.dtype)
    d_projected, through_c = _lstm_factors(gates, c_prev, tanh_c)  # for every step, before the walk
    d_ifg = d_projected[..., : 3 * hidden].reshape(steps, batch, 3, hidden)  # the blocks that scale with δc_t
    dh, dc = d_h_n, d_c_n  # dL/dh_t and dL/dc_t from everything later
    for t in reversed(_time_order(steps, cache.reverse)):
        k = keep[t]
        d_h_new = _masked(k, dh + d_outputs[t])  # δh_t
        d_c_new = _masked(k, dc) + d_h_new * through_c[t]  # δc_t: from c_{t+1}, and through tanh(c_t)
        d_ifg[t] *= d_c_new[:, None, :]  # da_i, da_f, da_g
        da = d_projected[t]
        da[:, 3 * hidden :] *= d_h_new  # da_o
        dh = _plus_carried(k, da @ w_hh, dh)  # dh_{t-1}
        dc = _plus_carried(k, d_c_new * f[t], dc)  # dc_{t-1}: the forget gate's path
    dx, dw_ih, db_ih = _input_gradients(cache.x, cache.w_ih, d_projected, cache.has_b_ih, need_dx)
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
    scale, _ = _gate_constants(xp, "sst", hidden, x.dtype)  # r, z sigmoid (rows halved); n's rows as they are
    projected = _project_inputs(x, _scaled_rows(w_ih, scale), _scaled_rows(b_ih, scale))
    b_hn = None
    if b_hh is not None:  # b_hr, b_hz enter a_r, a_z as they are: added once; b_hn sits inside r ⊙ q_n
        projected[..., : 2 * hidden] += _scaled_rows(b_hh, scale)[: 2 * hidden]
        b_hn = b_hh[2 * hidden :]
    w_hh_t = _transposed(xp, w_hh, scale)
    outputs = xp.empty((steps,) + h0.shape, dtype=x.dtype)
    h_prev, q_n = xp.empty_like(outputs), xp.empty_like(outputs)
    gates = xp.empty_like(projected)  # activated r, z, n
    keep = _keep(mask, steps)
    h, hp = h0, xp.empty_like(projected[0])
    for t in _time_order(steps, reverse):
        h_prev[t] = h
        xp.matmul(h, w_hh_t, out=hp)  # hp = [q_r, q_z, q_n] (r, z halved), without b_hh
        rz = xp.add(projected[t][:, : 2 * hidden], hp[:, : 2 * hidden], out=gates[t][:, : 2 * hidden])
        xp.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5  # r, z = σ(x + q) = ½ + ½ tanh((x + q)/2)
        r, z = rz[:, :hidden], rz[:, hidden:]
        q_n[t] = hp[:, 2 * hidden :] if b_hn is None else hp[:, 2 * hidden :] + b_hn
        n = xp.multiply(r, q_n[t], out=gates[t][:, 2 * hidden :])
        n += projected[t][:, 2 * hidden :]
        xp.tanh(n, out=n)  # n = tanh(x_n + r ⊙ q_n)
        h_new = h - n
        h_new *= z
        h_new += n  # h_t = (1 - z) ⊙ n + z ⊙ h_{t-1} = n + z ⊙ (h_{t-1} - n)
        h = _new_state(xp, keep[t], h_new, h, outputs[t])
    cache = GRUCache(x=x, w_ih=w_ih, w_hh=w_hh, has_b_ih=b_ih is not None, has_b_hh=b_hh is not None,
                     reverse=reverse, mask=mask, h_prev=h_prev, q_n=q_n, gates=gates)
    return outputs, h.copy(), cache


def gru_backward(xp, cache: GRUCache, d_outputs, d_h_n, need_dx=True):
    """Gradients (dx, dh0, dW_ih, dW_hh, db_ih, db_hh) of the GRU."""
    steps, hidden, w_hh = len(cache.x), cache.h_prev.shape[2], cache.w_hh
    gates, h_prev, q_n = cache.gates, cache.h_prev, cache.q_n
    batch = gates.shape[1]
    r, z, n = gates[..., :hidden], gates[..., hidden : 2 * hidden], gates[..., 2 * hidden :]
    keep = _keep(cache.mask, steps, cache.x.dtype)
    # Before the walk, for every step at once, the factors that multiply δh_t (they do not depend on it):
    #   da_n = δh_t ⊙ (1-z)(1-n²)                       (h_t = (1-z) ⊙ n + z ⊙ h_{t-1}, n = tanh(a_n))
    #   da_r = da_n ⊙ q_n ⊙ r(1-r),  da_z = δh_t ⊙ (h_{t-1} - n) ⊙ z(1-z)     (a_n = x_n + r ⊙ q_n)
    # dQ = d(h_{t-1} W_hhᵀ + b_hh) = [da_r, da_z, da_n ⊙ r]: q_n enters a_n multiplied by r.
    to_an = (1 - z) * (1 - n * n)
    d_hidden_projection = xp.empty_like(gates)
    d_hidden_projection[..., :hidden] = to_an * q_n * r * (1 - r)
    d_hidden_projection[..., hidden : 2 * hidden] = (h_prev - n) * z * (1 - z)
    d_hidden_projection[..., 2 * hidden :] = to_an * r
    d_q = d_hidden_projection.reshape(steps, batch, 3, hidden)
    d_h_all = xp.empty_like(h_prev)  # δh_t of every step: da_n needs it after the walk
    dh = d_h_n
    for t in reversed(_time_order(steps, cache.reverse)):
        k = keep[t]
        d_h_new = d_h_all[t] = _masked(k, dh + d_outputs[t])  # δh_t
        d_q[t] *= d_h_new[:, None, :]  # dQ_t
        dh_direct = d_hidden_projection[t] @ w_hh + d_h_new * z[t]  # through W_hh, and through z ⊙ h_{t-1}
        dh = _plus_carried(k, dh_direct, dh)
    d_projected = d_hidden_projection.copy()  # x_r, x_z, x_n enter a_r, a_z, a_n as they are
    xp.multiply(d_h_all, to_an, out=d_projected[..., 2 * hidden :])  # da_n
    dx, dw_ih, db_ih = _input_gradients(cache.x, cache.w_ih, d_projected, cache.has_b_ih, need_dx)
    dw_hh, db_hh = _hidden_gradients(d_hidden_projection, h_prev, cache.has_b_hh)
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


# The LSTM with a projection has its own file; it builds on the helpers above.
from .bptt_projected import lstm_proj_backward, lstm_proj_forward  # noqa: E402


# ---------------------------------------------------------------- the table of cell kinds
@dataclass(frozen=True)
class CellKind:
    """What differs between the kinds of recurrent cell, as data: the layers look a kind up
    here instead of branching on its name.

    ``forward(xp, x, *initial_states, w_ih, w_hh, b_ih, b_hh, *extra_weights, reverse=, mask=)`` returns
    ``(outputs, *final_states, cache)``; ``backward(xp, cache, d_outputs, *d_final_states)``
    returns ``(dx, *d_initial_states, dW_ih, dW_hh, db_ih, db_hh, *d_extra_weights)``: the gradients
    in the order of the forward's inputs (PyTorch's order of the parameters).

    ``CELL_KINDS`` holds one kind per PyTorch ``mode``; a kind's ``projected`` is its variant with a
    projection of the state (the LSTM's ``proj_size > 0``: "lstm_proj"), whose weight W_hr comes
    after the biases (``extra_weights=1``).
    """

    name: str  # PyTorch's ``mode`` in lower case ("_proj" appended for the projected variant)
    gates: int  # G: the gate blocks stacked in W_ih (G·H, I), W_hh (G·H, H) and the biases
    states: int  # the state tensors carried from step to step: 1 (h), or 2 (h, c) for the LSTM
    forward: Callable
    backward: Callable
    extra_weights: int = 0  # weights after the biases among the inputs: 1 (W_hr, (P, H)) for "lstm_proj"
    projected: CellKind | None = None  # the variant for a layer with ``proj_size > 0``; None: no such layer


CELL_KINDS = {
    kind.name: kind
    for kind in (
        CellKind("rnn_tanh", gates=1, states=1, forward=partial(rnn_forward, nonlinearity="tanh"),
                 backward=rnn_backward),
        CellKind("rnn_relu", gates=1, states=1, forward=partial(rnn_forward, nonlinearity="relu"),
                 backward=rnn_backward),
        CellKind("lstm", gates=4, states=2, forward=lstm_forward, backward=lstm_backward,
                 projected=CellKind("lstm_proj", gates=4, states=2, forward=lstm_proj_forward,
                                    backward=lstm_proj_backward, extra_weights=1)),
        CellKind("gru", gates=3, states=1, forward=gru_forward, backward=gru_backward),
    )
}
