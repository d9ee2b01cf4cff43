"""Backpropagation through time, derived by hand, for the vanilla RNN, the LSTM and the GRU.

This is the second, independent road to the gradients of a recurrent layer (the first
is the autograd engine running over the composed cell in ``nn/recurrent.py``); the tests
hold the two against each other and against finite differences. It is also the fast
road: a whole sequence is one graph node (``ops/recurrent.py``) instead of a dozen
nodes per time step. ``docs/bptt.md`` derives every equation used here.

Everything works on raw arrays through the array module ``xp`` (NumPy or CuPy), for
one layer in one direction. Shapes: input ``x`` (T, N, I), states (N, H), weights
``w_ih`` (G·H, I), ``w_hh`` (G·H, H), biases (G·H,) or None, ``mask`` (T, N) bool or None
(False where a sequence has ended: its state is carried unchanged and its output is 0).

Notation in the comments: ⊙ elementwise product, σ the sigmoid, primes for the new
state, dX for ∂L/∂X (the gradient of the loss with respect to X).
"""

from __future__ import annotations

GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def _sigmoid(xp, a):
    """σ(a) = (1 + tanh(a/2)) / 2: one transcendental, no overflow. (The Sigmoid op keeps
    relative accuracy far in the negative tail; a gate needs only absolute accuracy.)"""
    return 0.5 * (1 + xp.tanh(0.5 * a))


def _time_order(steps: int, reverse: bool):
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _keep(mask, t):
    """(N, 1) mask of the sequences still running at step t (None: all of them). Bool in the
    forward, where ``where`` blends (so NaN in padding cannot leak in), float in the backward."""
    return None if mask is None else mask[t][:, None]


def _float_mask(mask, dtype):
    return None if mask is None else mask.astype(dtype)


def _project_inputs(xp, x, w_ih, b_ih):
    """x_t W_ihᵀ + b_ih for every t at once: one (T·N, I) x (I, G·H) matrix product."""
    steps, batch, _ = x.shape
    projected = (x.reshape(steps * batch, -1) @ w_ih.T).reshape(steps, batch, -1)
    return projected if b_ih is None else projected + b_ih


def _hidden_gradients(d_hidden_projection, h_prev, has_bias: bool):
    """From d(h_{t-1} W_hhᵀ + b_hh) for all t: dW_hh = Σ_t dQ_tᵀ h_{t-1}, db_hh = Σ dQ, as one product."""
    steps, batch, _ = h_prev.shape
    flat = d_hidden_projection.reshape(steps * batch, -1)
    return flat.T @ h_prev.reshape(steps * batch, -1), (flat.sum(axis=0) if has_bias else None)


def _input_gradients(xp, x, w_ih, d_projected, has_bias: bool):
    """From d(x W_ihᵀ + b_ih) for all t: dx = d_proj W_ih, dW_ih = Σ_t d_projᵀ x, db_ih = Σ d_proj."""
    steps, batch, _ = x.shape
    flat = d_projected.reshape(steps * batch, -1)
    dx = (flat @ w_ih).reshape(x.shape)
    dw_ih = flat.T @ x.reshape(steps * batch, -1)
    db_ih = flat.sum(axis=0) if has_bias else None
    return dx, dw_ih, db_ih


# ---------------------------------------------------------------- vanilla RNN
def rnn_forward(xp, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh", reverse=False, mask=None):
    """h_t = φ(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), φ = tanh or relu.

    Returns ``outputs`` (T, N, H), ``h_n`` (N, H) and the ``cache`` that ``rnn_backward`` needs.
    """
    steps = x.shape[0]
    projected = _project_inputs(xp, x, w_ih, b_ih)
    outputs = xp.zeros((steps,) + h0.shape, dtype=x.dtype)
    previous = xp.zeros_like(outputs)  # h_{t-1} as seen by step t
    activated = xp.zeros_like(outputs)  # φ(a_t), the candidate new state
    h = h0
    for t in _time_order(steps, reverse):
        previous[t] = h
        a = projected[t] + h @ w_hh.T
        if b_hh is not None:
            a = a + b_hh
        activated[t] = xp.tanh(a) if nonlinearity == "tanh" else xp.maximum(a, 0)
        k = _keep(mask, t)
        h = activated[t] if k is None else xp.where(k, activated[t], h)
        outputs[t] = activated[t] if k is None else xp.where(k, activated[t], 0)
    cache = (x, w_ih, w_hh, b_ih is not None, b_hh is not None, nonlinearity, reverse, mask, previous, activated)
    return outputs, h, cache


def rnn_backward(xp, cache, d_outputs, d_h_n):
    """Gradients (dx, dh0, dW_ih, dW_hh, db_ih, db_hh) of the RNN, walking time backwards."""
    x, w_ih, w_hh, has_b_ih, has_b_hh, nonlinearity, reverse, mask, previous, activated = cache
    steps, keep = x.shape[0], _float_mask(mask, x.dtype)
    d_projected = xp.zeros_like(activated)
    dh = d_h_n  # dL/dh_t, everything that flows into h_t from later steps and h_n
    for t in reversed(list(_time_order(steps, reverse))):
        k = _keep(keep, t)
        d_new = dh + d_outputs[t] if k is None else k * (dh + d_outputs[t])  # into φ(a_t)
        # φ'(a): 1 - tanh²(a) from the output itself; relu: 1 where the output is positive
        da = d_new * (1 - activated[t] ** 2) if nonlinearity == "tanh" else d_new * (activated[t] > 0)
        d_projected[t] = da  # a_t = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh: both projections get da
        dh = da @ w_hh if k is None else da @ w_hh + (1 - k) * dh  # dh_{t-1}: through W_hh, and carried
    dx, dw_ih, db_ih = _input_gradients(xp, x, w_ih, d_projected, has_b_ih)
    dw_hh, db_hh = _hidden_gradients(d_projected, previous, has_b_hh)  # dW_hh = Σ_t daᵀ h_{t-1}
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


# ---------------------------------------------------------------- LSTM
def lstm_forward(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False, mask=None):
    """PyTorch's LSTM, gates in the order i, f, g, o:

        [a_i, a_f, a_g, a_o] = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh
        i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
        c_t = f ⊙ c_{t-1} + i ⊙ g,    h_t = o ⊙ tanh(c_t)

    Returns ``outputs`` (T, N, H), ``h_n``, ``c_n`` and the ``cache``.
    """
    steps, hidden = x.shape[0], h0.shape[1]
    projected = _project_inputs(xp, x, w_ih, b_ih)
    outputs = xp.zeros((steps,) + h0.shape, dtype=x.dtype)
    h_prev, c_prev, tanh_c = xp.zeros_like(outputs), xp.zeros_like(outputs), xp.zeros_like(outputs)
    gates = xp.zeros((steps, h0.shape[0], 4 * hidden), dtype=x.dtype)  # activated i, f, g, o
    h, c = h0, c0
    for t in _time_order(steps, reverse):
        h_prev[t], c_prev[t] = h, c
        a = projected[t] + h @ w_hh.T
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
        k = _keep(mask, t)
        if k is None:
            h, c, outputs[t] = h_new, c_new, h_new
        else:
            h, c, outputs[t] = xp.where(k, h_new, h), xp.where(k, c_new, c), xp.where(k, h_new, 0)
    cache = (x, w_ih, w_hh, b_ih is not None, b_hh is not None, reverse, mask, h_prev, c_prev, gates, tanh_c)
    return outputs, h, c, cache


def lstm_backward(xp, cache, d_outputs, d_h_n, d_c_n):
    """Gradients (dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh) of the LSTM."""
    x, w_ih, w_hh, has_b_ih, has_b_hh, reverse, mask, h_prev, c_prev, gates, tanh_c = cache
    steps, hidden, keep = x.shape[0], h_prev.shape[2], _float_mask(mask, x.dtype)
    d_projected = xp.zeros_like(gates)
    dh, dc = d_h_n, d_c_n  # dL/dh_t and dL/dc_t from everything later
    for t in reversed(list(_time_order(steps, reverse))):
        k = _keep(keep, t)
        i, f = gates[t][:, :hidden], gates[t][:, hidden : 2 * hidden]
        g, o = gates[t][:, 2 * hidden : 3 * hidden], gates[t][:, 3 * hidden :]
        d_h_new = dh + d_outputs[t] if k is None else k * (dh + d_outputs[t])
        d_c_carried = dc if k is None else k * dc
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
        dh = da @ w_hh if k is None else da @ w_hh + (1 - k) * dh  # dh_{t-1}
        dc = d_c_new * f if k is None else d_c_new * f + (1 - k) * dc  # dc_{t-1}: the forget gate's path
    dx, dw_ih, db_ih = _input_gradients(xp, x, w_ih, d_projected, has_b_ih)
    dw_hh, db_hh = _hidden_gradients(d_projected, h_prev, has_b_hh)  # the gates see h_{t-1} W_hhᵀ as is
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh


# ---------------------------------------------------------------- GRU
def gru_forward(xp, x, h0, w_ih, w_hh, b_ih, b_hh, reverse=False, mask=None):
    """PyTorch's GRU, gates in the order r, z, n:

        [x_r, x_z, x_n] = x_t W_ihᵀ + b_ih,    [q_r, q_z, q_n] = h_{t-1} W_hhᵀ + b_hh
        r = σ(x_r + q_r),  z = σ(x_z + q_z),  n = tanh(x_n + r ⊙ q_n)
        h_t = (1 - z) ⊙ n + z ⊙ h_{t-1}

    Returns ``outputs`` (T, N, H), ``h_n`` and the ``cache``.
    """
    steps, hidden = x.shape[0], h0.shape[1]
    projected = _project_inputs(xp, x, w_ih, b_ih)
    outputs = xp.zeros((steps,) + h0.shape, dtype=x.dtype)
    h_prev, q_n = xp.zeros_like(outputs), xp.zeros_like(outputs)
    gates = xp.zeros((steps, h0.shape[0], 3 * hidden), dtype=x.dtype)  # activated r, z, n
    h = h0
    for t in _time_order(steps, reverse):
        h_prev[t] = h
        hp = h @ w_hh.T
        if b_hh is not None:
            hp = hp + b_hh
        xr, xz, xn = projected[t][:, :hidden], projected[t][:, hidden : 2 * hidden], projected[t][:, 2 * hidden :]
        r = _sigmoid(xp, xr + hp[:, :hidden])
        z = _sigmoid(xp, xz + hp[:, hidden : 2 * hidden])
        q_n[t] = hp[:, 2 * hidden :]
        n = xp.tanh(xn + r * q_n[t])
        gates[t] = xp.concatenate([r, z, n], axis=1)
        h_new = (1 - z) * n + z * h
        k = _keep(mask, t)
        if k is None:
            h, outputs[t] = h_new, h_new
        else:
            h, outputs[t] = xp.where(k, h_new, h), xp.where(k, h_new, 0)
    cache = (x, w_ih, w_hh, b_ih is not None, b_hh is not None, reverse, mask, h_prev, q_n, gates)
    return outputs, h, cache


def gru_backward(xp, cache, d_outputs, d_h_n):
    """Gradients (dx, dh0, dW_ih, dW_hh, db_ih, db_hh) of the GRU."""
    x, w_ih, w_hh, has_b_ih, has_b_hh, reverse, mask, h_prev, q_n, gates = cache
    steps, hidden, keep = x.shape[0], h_prev.shape[2], _float_mask(mask, x.dtype)
    d_projected = xp.zeros_like(gates)
    d_hidden_projection = xp.zeros_like(gates)  # differs from d_projected: r multiplies the n block
    dh = d_h_n
    for t in reversed(list(_time_order(steps, reverse))):
        k = _keep(keep, t)
        r, z, n = gates[t][:, :hidden], gates[t][:, hidden : 2 * hidden], gates[t][:, 2 * hidden :]
        d_h_new = dh + d_outputs[t] if k is None else k * (dh + d_outputs[t])
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
        dh = dh_direct if k is None else dh_direct + (1 - k) * dh
    dx, dw_ih, db_ih = _input_gradients(xp, x, w_ih, d_projected, has_b_ih)
    dw_hh, db_hh = _hidden_gradients(d_hidden_projection, h_prev, has_b_hh)
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh
