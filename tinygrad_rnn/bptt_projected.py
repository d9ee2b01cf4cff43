"""Backpropagation through time for the LSTM with a projection (PyTorch's ``proj_size``), by hand:
the fourth kind of ``bptt.py`` (docs/bptt.md, section 3b), in its own file only to keep that one
short. It reuses bptt.py's helpers, and bptt.py's ``CELL_KINDS`` lists it as the LSTM's
``projected`` variant.

    h_t = (o ⊙ tanh(c_t)) W_hrᵀ      (P features; W_hh has P columns; c_t keeps H)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .bptt import (
    _blend,
    _both_biases,
    _gate_constants,
    _hidden_gradients,
    _input_gradients,
    _keep,
    _lstm_cell,
    _lstm_factors,
    _masked,
    _new_state,
    _plus_carried,
    _project_inputs,
    _scaled_rows,
    _time_order,
    _transposed,
)


class LSTMProjCache(NamedTuple):
    """What ``lstm_proj_backward`` needs from ``lstm_proj_forward``."""

    x: Any  # (T, N, I), the layer's input
    w_ih: Any
    w_hh: Any  # (4H, P)
    w_hr: Any  # (P, H), the projection
    has_b_ih: bool
    has_b_hh: bool
    reverse: bool  # time ran backwards
    mask: Any  # (T, N) bool, or None: every step of every sequence is real
    h_prev: Any  # (T, N, P): at step t, the (projected) state h_{t-1} that step started from
    c_prev: Any  # (T, N, H): ... and the cell c_{t-1}
    gates: Any  # (T, N, 4H): the activated gates i, f, g, o side by side
    tanh_c: Any  # (T, N, H): tanh(c_t) of the cell's new c_t (before the mask)
    cell_out: Any  # (T, N, H): o ⊙ tanh(c_t), what the projection multiplies (before the mask)


def lstm_proj_forward(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse=False, mask=None):
    """PyTorch's LSTM with ``proj_size=P``: the gates and the cell of ``lstm_forward``, then the state
    that is carried and output is projected from H to P features:

        [a_i, a_f, a_g, a_o] = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh        (W_hh: (4H, P))
        i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
        c_t = f ⊙ c_{t-1} + i ⊙ g,    h_t = (o ⊙ tanh(c_t)) W_hrᵀ             (W_hr: (P, H))

    ``h0`` is (N, P), ``c0`` (N, H). Returns ``outputs`` (T, N, P), ``h_n`` (N, P), ``c_n`` (N, H) and
    the ``cache``.
    """
    steps, hidden = x.shape[0], c0.shape[1]
    scale, shift = _gate_constants(xp, "ssts", hidden, x.dtype)  # i, f, o sigmoid; g tanh
    # a_t's input part for every step at once (gate rows scaled), then the activated gates in place
    gates = _project_inputs(x, _scaled_rows(w_ih, scale), _scaled_rows(_both_biases(b_ih, b_hh), scale))
    w_hh_t = _transposed(xp, w_hh, scale)  # (P, 4H)
    w_hr_t = xp.ascontiguousarray(w_hr.T)  # (H, P), made once per call, as W_hhᵀ is (see _transposed)
    outputs = xp.empty((steps,) + h0.shape, dtype=x.dtype)  # (T, N, P)
    h_prev = xp.empty_like(outputs)
    c_prev, tanh_c, cell_out = (xp.empty((steps,) + c0.shape, dtype=x.dtype) for _ in range(3))  # (T, N, H)
    keep = _keep(mask, steps)
    h, c, hidden_part, h_new = h0, c0, xp.empty_like(gates[0]), xp.empty(h0.shape, dtype=x.dtype)
    for t in _time_order(steps, reverse):
        h_prev[t], c_prev[t] = h, c
        c_new, o = _lstm_cell(xp, gates[t], h, c, w_hh_t, hidden_part, scale, shift, tanh_c[t])
        xp.multiply(o, tanh_c[t], out=cell_out[t])  # o ⊙ tanh(c_t)
        k = keep[t]
        h = _new_state(xp, k, xp.matmul(cell_out[t], w_hr_t, out=h_new), h, outputs[t])  # h_t = (o ⊙ tanh c_t) W_hrᵀ
        c = _blend(xp, k, c_new, c)
    cache = LSTMProjCache(x=x, w_ih=w_ih, w_hh=w_hh, w_hr=w_hr, has_b_ih=b_ih is not None,
                          has_b_hh=b_hh is not None, reverse=reverse, mask=mask, h_prev=h_prev, c_prev=c_prev,
                          gates=gates, tanh_c=tanh_c, cell_out=cell_out)
    return outputs, h.copy(), c, cache


def lstm_proj_backward(xp, cache: LSTMProjCache, d_outputs, d_h_n, d_c_n, need_dx=True):
    """Gradients (dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh, dW_hr) of the LSTM with a projection.

    The walk is ``lstm_backward``'s with δh_t (N, P) first taken back through the projection:
    δ(o ⊙ tanh c_t) = δh_t W_hr (N, H) stands where the plain LSTM has δh_t, in δc_t and in da_o.
    dW_hr = Σ_t δh_tᵀ (o ⊙ tanh c_t) is one product over all steps after the walk.
    """
    steps, hidden, w_hh, w_hr = len(cache.x), cache.c_prev.shape[2], cache.w_hh, cache.w_hr
    gates, cell_out = cache.gates, cache.cell_out
    batch = gates.shape[1]
    f = gates[..., hidden : 2 * hidden]  # the forget gate, for dc_{t-1}
    keep = _keep(cache.mask, steps, cache.x.dtype)
    d_projected, through_c = _lstm_factors(gates, cache.c_prev, cache.tanh_c)  # for every step, before the walk
    d_ifg = d_projected[..., : 3 * hidden].reshape(steps, batch, 3, hidden)  # the blocks that scale with δc_t
    d_h_all = xp.empty_like(cache.h_prev)  # δh_t of every step (T, N, P): dW_hr needs them after the walk
    dh, dc = d_h_n, d_c_n  # dL/dh_t (N, P) and dL/dc_t (N, H) from everything later
    for t in reversed(_time_order(steps, cache.reverse)):
        k = keep[t]
        d_h_new = d_h_all[t] = _masked(k, dh + d_outputs[t])  # δh_t
        d_cell_out = d_h_new @ w_hr  # δ(o ⊙ tanh c_t) = δh_t W_hr: back through the projection
        d_c_new = _masked(k, dc) + d_cell_out * through_c[t]  # δc_t: from c_{t+1}, and through tanh(c_t)
        d_ifg[t] *= d_c_new[:, None, :]  # da_i, da_f, da_g
        da = d_projected[t]
        da[:, 3 * hidden :] *= d_cell_out  # da_o
        dh = _plus_carried(k, da @ w_hh, dh)  # dh_{t-1} (N, P): W_hh is (4H, P)
        dc = _plus_carried(k, d_c_new * f[t], dc)  # dc_{t-1}: the forget gate's path
    dx, dw_ih, db_ih = _input_gradients(cache.x, cache.w_ih, d_projected, cache.has_b_ih, need_dx)
    dw_hh, db_hh = _hidden_gradients(d_projected, cache.h_prev, cache.has_b_hh)  # the gates see h_{t-1} W_hhᵀ as is
    # dW_hr = Σ_t δh_tᵀ (o ⊙ tanh c_t): one (T·N, P)ᵀ x (T·N, H) product (δh_t is 0 at a padded step)
    dw_hr = d_h_all.reshape(steps * batch, -1).T @ cell_out.reshape(steps * batch, -1)
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh, dw_hr
