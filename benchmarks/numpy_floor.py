"""The floor: one training step of each workload of ``workloads.py`` written by hand in plain NumPy.

No framework, no graph: the forward and the hand-derived backward (BPTT) of each cell kind on raw
arrays, the way an expert would write them for speed. This is what the fused road of tinygrad_rnn
is measured against (``workloads.py``), so it is tuned:

- the input projection of all steps is ONE matrix product, (T·B, I) @ W_ihᵀ, biases added once;
- the weight gradients are ONE product each over all steps: the per-step pre-activation gradients
  are stacked in a (T, B, G·H) buffer, then dW_ih = dAᵀ X and dW_hh = dAᵀ H_prev;
- every buffer is allocated once, when the step is made, and every ufunc writes into one (``out=``);
- W_hhᵀ is made contiguous once per step call (here: copied, already scaled, into a buffer);
- the sigmoids cost one ``tanh`` with the gates' pre-activations: σ(a) = (1 + tanh(a/2)) / 2, stable
  for any a. The ½ is folded into the weights' rows of the sigmoid gates, so one ``tanh`` over all
  4H pre-activations of an LSTM gives tanh(a/2) for i, f, o and tanh(a) for g, and one affine map
  with per-column constants (y·[½ ½ 1 ½] + [½ ½ 0 ½]) turns them into the gates: two calls over a
  contiguous row instead of four over strided slices (measured per step, one core, B=16, H=64: tanh and
  map about 5 µs, against 10 with the four slices and 7 with the gates reordered i, f, o, g);
- in the backward, everything off the recurrent path (the local derivatives of the gates) is
  computed for all steps at once before the walk back, so each step of the walk is a few ufuncs
  and one (B, G·H) @ (G·H, H) product;
- the loss is a stable log-softmax cross-entropy (max subtracted) or a mean squared error;
- nothing computes dL/dx: the input needs no gradient.

The workloads (``WORKLOADS``): "char" (LSTM 128, one-hot 65, B 32, T 64, cross-entropy at every
step), "tiny" (tanh RNN 100, one-hot 65, B 1, T 25, cross-entropy at every step), "gru" (GRU 256,
dense input 64, B 64, T 100, MSE on the last state), "long" (LSTM 64, dense input 8, B 16, T 1000,
MSE on the last state). Parameters use PyTorch's names (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ``head.weight``, ``head.bias``) and gate orders (LSTM i, f, g, o;
GRU r, z, n). ``make_<name>_step(params, data)`` returns ``step()``: one training step (forward,
loss, backward, SGD with lr 0.01, params updated in place) returning the loss;
``make_<name>_gradients(params, data)`` returns ``gradients()``: the loss and the gradients of one
step, without the update. Any float dtype works (the tests run it in float64).

    python benchmarks/numpy_floor.py [--workloads char tiny gru long] [--repeats 7]

prints the floor's median ms per step alone; ``workloads.py`` sets it beside the others.

Notation: ⊙ elementwise product, σ the sigmoid, dX = ∂L/∂X, h_{t-1} the state a step starts from.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace

import numpy as np

LEARNING_RATE = 0.01


@dataclass(frozen=True)
class Workload:
    """One benchmark workload: a 1-layer recurrent cell, a linear head and a loss."""

    cell: str  # "lstm", "gru" or "rnn_tanh"
    inputs: int  # I: input features (the vocabulary size for a one-hot input)
    hidden: int  # H
    batch: int  # B
    steps: int  # T (time-major input (T, B, I))
    outputs: int  # the head's outputs (the vocabulary size for cross-entropy)
    loss: str  # "cross_entropy" on every step's output, or "mse" on the last state

    @property
    def gates(self) -> int:
        """G: the gate blocks stacked in W_ih (G·H, I)."""
        return {"lstm": 4, "gru": 3, "rnn_tanh": 1}[self.cell]


WORKLOADS = {
    "char": Workload("lstm", inputs=65, hidden=128, batch=32, steps=64, outputs=65, loss="cross_entropy"),
    "tiny": Workload("rnn_tanh", inputs=65, hidden=100, batch=1, steps=25, outputs=65, loss="cross_entropy"),
    "gru": Workload("gru", inputs=64, hidden=256, batch=64, steps=100, outputs=1, loss="mse"),
    "long": Workload("lstm", inputs=8, hidden=64, batch=16, steps=1000, outputs=1, loss="mse"),
}


def init_params(workload: Workload, seed: int = 0, dtype=np.float32) -> dict:
    """Weights as PyTorch initialises them: every entry uniform in ±1/sqrt(H) (the recurrent layer's
    rule, and nn.Linear(H, ·)'s, whose fan-in is H too), under PyTorch's names."""
    rng = np.random.default_rng(seed)
    w = workload
    bound = 1.0 / np.sqrt(w.hidden)
    shapes = {
        "weight_ih_l0": (w.gates * w.hidden, w.inputs),
        "weight_hh_l0": (w.gates * w.hidden, w.hidden),
        "bias_ih_l0": (w.gates * w.hidden,),
        "bias_hh_l0": (w.gates * w.hidden,),
        "head.weight": (w.outputs, w.hidden),
        "head.bias": (w.outputs,),
    }
    return {name: rng.uniform(-bound, bound, shape).astype(dtype) for name, shape in shapes.items()}


def make_data(workload: Workload, seed: int = 1, dtype=np.float32) -> tuple:
    """``(x, target)``, time-major. Cross-entropy workloads: x (T, B, V) one-hot symbols and target
    (T, B) int64, the next symbol (a character model's data). MSE workloads: x (T, B, I) and target
    (B, outputs), standard normal."""
    rng = np.random.default_rng(seed)
    w = workload
    if w.loss == "cross_entropy":
        symbols = rng.integers(0, w.inputs, (w.steps + 1, w.batch))
        x = np.eye(w.inputs, dtype=dtype)[symbols[:-1]]
        return x, symbols[1:].astype(np.int64)
    x = rng.standard_normal((w.steps, w.batch, w.inputs)).astype(dtype)
    return x, rng.standard_normal((w.batch, w.outputs)).astype(dtype)


# ---------------------------------------------------------------- cells
# Each cell: __init__ allocates every buffer once for (T, B); forward(params, x) runs the sequence
# and returns the states h (T+1, B, H) with h[0] = 0 (so h[1:] are the outputs, h[t] is h_{t-1} of
# step t); backward(params, x, d_outputs, d_last) takes dL/d(outputs) (T, B, H) (it is overwritten)
# or dL/dh_T (B, H) and returns the four gradients. h_0 (and c_0) are zeros and need no gradient.
class LSTMCell:
    """PyTorch's LSTM, gates i, f, g, o:

        [a_i, a_f, a_g, a_o] = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh
        i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
        c_t = f ⊙ c_{t-1} + i ⊙ g,    h_t = o ⊙ tanh(c_t)
    """

    def __init__(self, steps: int, batch: int, inputs: int, hidden: int, dtype):
        T, B, H = steps, batch, hidden
        self.gates = np.empty((T, B, 4 * H), dtype)  # pre-activations, then (in place) i, f, g, o
        self.h = np.zeros((T + 1, B, H), dtype)
        self.c = np.zeros((T + 1, B, H), dtype)
        self.tanh_c = np.empty((T, B, H), dtype)  # tanh(c_t); in the backward o ⊙ (1 - tanh²(c_t))
        self.d_gates = np.empty((T, B, 4 * H), dtype)  # local derivatives, then (in place) dA
        self.d_h, self.d_c, self.tmp_h = np.empty((B, H), dtype), np.empty((B, H), dtype), np.empty((B, H), dtype)
        self.tmp_gates = np.empty((B, 4 * H), dtype)
        self.w_ih_t = np.empty((inputs, 4 * H), dtype)  # W_ihᵀ, columns of σ gates halved
        self.w_hh_t = np.empty((H, 4 * H), dtype)  # W_hhᵀ, contiguous, columns of σ gates halved
        self.ones = np.ones(T * B, dtype)  # Σ over rows as one matrix-vector product
        # σ(a) = ½ + ½ tanh(a/2): halve the σ gates' pre-activations, one tanh, then y·scale + shift
        self.half = np.array([0.5] * (2 * H) + [1.0] * H + [0.5] * H, dtype)  # [½ ½ 1 ½] per block
        self.shift = np.array([0.5] * (2 * H) + [0.0] * H + [0.5] * H, dtype)  # [½ ½ 0 ½] per block

    def forward(self, params: dict, x: np.ndarray) -> np.ndarray:
        """The forward over all steps; returns h (T+1, B, H)."""
        T, B, H = self.tanh_c.shape
        gates, h, c, tanh_c, half = self.gates, self.h, self.c, self.tanh_c, self.half
        np.multiply(params["weight_ih_l0"].T, half, out=self.w_ih_t)
        np.multiply(params["weight_hh_l0"].T, half, out=self.w_hh_t)
        bias = (params["bias_ih_l0"] + params["bias_hh_l0"]) * half
        # all steps' x_t W_ihᵀ + b_ih + b_hh (σ blocks halved) as one product
        np.matmul(x.reshape(T * B, -1), self.w_ih_t, out=gates.reshape(T * B, 4 * H))
        np.add(gates, bias, out=gates)
        tmp, w_hh_t = self.tmp_gates, self.w_hh_t
        for t in range(T):
            a = gates[t]
            if t:  # h_0 = 0
                np.matmul(h[t], w_hh_t, out=tmp)  # + h_{t-1} W_hhᵀ
                np.add(a, tmp, out=a)
            np.tanh(a, out=a)  # tanh(a/2) for i, f, o; tanh(a) for g
            np.multiply(a, half, out=a)
            np.add(a, self.shift, out=a)  # i, f, o = ½ + ½ tanh(a/2) = σ(a); g unchanged
            i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
            np.multiply(f, c[t], out=c[t + 1])  # c_t = f ⊙ c_{t-1} + i ⊙ g
            np.multiply(i, g, out=self.tmp_h)
            np.add(c[t + 1], self.tmp_h, out=c[t + 1])
            np.tanh(c[t + 1], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=h[t + 1])  # h_t = o ⊙ tanh(c_t)
        return h

    def backward(self, params: dict, x: np.ndarray, d_outputs: np.ndarray | None, d_last: np.ndarray | None) -> dict:
        """BPTT. With dh_t (from the loss and from step t+1) and dc_t (from step t+1):

            dc_t += dh_t ⊙ o ⊙ (1 - tanh²(c_t))
            da_i = dc_t ⊙ g ⊙ i(1-i),   da_f = dc_t ⊙ c_{t-1} ⊙ f(1-f)
            da_g = dc_t ⊙ i ⊙ (1-g²),   da_o = dh_t ⊙ tanh(c_t) ⊙ o(1-o)
            dh_{t-1} = dA_t W_hh (+ the loss's part),   dc_{t-1} = dc_t ⊙ f
            dW_ih = Σ_t dA_tᵀ x_t,  dW_hh = Σ_t dA_tᵀ h_{t-1},  db_ih = db_hh = Σ_t dA_t
        """
        T, B, H = self.tanh_c.shape
        gates, c, tanh_c, d = self.gates, self.c, self.tanh_c, self.d_gates
        i, f, g, o = gates[..., :H], gates[..., H : 2 * H], gates[..., 2 * H : 3 * H], gates[..., 3 * H :]
        # off the recurrent path, for all steps at once: d = the factors multiplying dc_t (i, f, g) or dh_t (o)
        np.subtract(1, gates, out=d)  # 1 - σ (wrong for g: overwritten below)
        np.multiply(d, gates, out=d)  # σ(1 - σ)
        np.multiply(d[..., :H], g, out=d[..., :H])  # g ⊙ i(1-i)
        np.multiply(d[..., H : 2 * H], c[:-1], out=d[..., H : 2 * H])  # c_{t-1} ⊙ f(1-f)
        d_g = d[..., 2 * H : 3 * H]
        np.multiply(g, g, out=d_g)
        np.subtract(1, d_g, out=d_g)
        np.multiply(d_g, i, out=d_g)  # i ⊙ (1 - g²)
        np.multiply(d[..., 3 * H :], tanh_c, out=d[..., 3 * H :])  # tanh(c_t) ⊙ o(1-o)
        np.multiply(tanh_c, tanh_c, out=tanh_c)
        np.subtract(1, tanh_c, out=tanh_c)
        through_c = np.multiply(tanh_c, o, out=tanh_c)  # o ⊙ (1 - tanh²(c_t)): dh_t's way into c_t
        d_ifg = d[..., : 3 * H].reshape(T, B, 3, H)  # the three blocks that scale with dc_t
        w_hh, d_h, d_c, tmp = params["weight_hh_l0"], self.d_h, self.d_c, self.tmp_h

        d_c.fill(0)
        if d_outputs is None:
            d_h[...] = d_last
        for t in range(T - 1, -1, -1):
            dh = d_h if d_outputs is None else d_outputs[t]
            np.multiply(dh, through_c[t], out=tmp)
            np.add(d_c, tmp, out=d_c)  # dc_t
            np.multiply(d_ifg[t], d_c[:, None, :], out=d_ifg[t])  # da_i, da_f, da_g
            np.multiply(d[t, :, 3 * H :], dh, out=d[t, :, 3 * H :])  # da_o
            if t == 0:
                break
            if d_outputs is None:
                np.matmul(d[t], w_hh, out=d_h)  # dh_{t-1} = dA_t W_hh
            else:
                np.matmul(d[t], w_hh, out=tmp)
                np.add(d_outputs[t - 1], tmp, out=d_outputs[t - 1])  # ... + the loss's dh_{t-1}
            np.multiply(d_c, f[t], out=d_c)  # dc_{t-1} = dc_t ⊙ f
        return _weight_gradients(d, d, x, self.h, self.ones)


class GRUCell:
    """PyTorch's GRU, gates r, z, n:

        [x_r, x_z, x_n] = x_t W_ihᵀ + b_ih,    [q_r, q_z, q_n] = h_{t-1} W_hhᵀ + b_hh
        r = σ(x_r + q_r),  z = σ(x_z + q_z),  n = tanh(x_n + r ⊙ q_n)
        h_t = (1 - z) ⊙ n + z ⊙ h_{t-1} = n + z ⊙ (h_{t-1} - n)
    """

    def __init__(self, steps: int, batch: int, inputs: int, hidden: int, dtype):
        T, B, H = steps, batch, hidden
        self.projected = np.empty((T, B, 3 * H), dtype)  # x_t W_ihᵀ + b_ih (+ b_hr, b_hz), r, z halved
        self.gates = np.empty((T, B, 3 * H), dtype)  # r, z, n
        self.q_n = np.empty((T, B, H), dtype)  # q_n = h_{t-1} W_hnᵀ + b_hn
        self.h = np.zeros((T + 1, B, H), dtype)
        self.d_q = np.empty((T, B, 3 * H), dtype)  # factors, then (in place) dQ = d(h_{t-1} W_hhᵀ + b_hh)
        self.d_h_all = np.empty((T, B, H), dtype)  # dh_t of every step
        self.k_n, self.tmp_big = np.empty((T, B, H), dtype), np.empty((T, B, H), dtype)
        self.tmp_h, self.tmp_gates = np.empty((B, H), dtype), np.empty((B, 3 * H), dtype)
        self.w_ih_t = np.empty((inputs, 3 * H), dtype)
        self.w_hh_t = np.empty((H, 3 * H), dtype)
        self.ones = np.ones(T * B, dtype)
        self.half = np.array([0.5] * (2 * H) + [1.0] * H, dtype)  # σ(a) = ½ + ½ tanh(a/2) for r, z

    def forward(self, params: dict, x: np.ndarray) -> np.ndarray:
        """The forward over all steps; returns h (T+1, B, H)."""
        T, B, H = self.q_n.shape
        p, gates, q_n, h, half, tmp = self.projected, self.gates, self.q_n, self.h, self.half, self.tmp_gates
        np.multiply(params["weight_ih_l0"].T, half, out=self.w_ih_t)
        np.multiply(params["weight_hh_l0"].T, half, out=self.w_hh_t)
        b_hh = params["bias_hh_l0"]
        bias = params["bias_ih_l0"] * half
        bias[: 2 * H] += 0.5 * b_hh[: 2 * H]  # b_hr, b_hz add to x_r, x_z; b_hn stays inside r ⊙ q_n
        b_hn = b_hh[2 * H :]
        np.matmul(x.reshape(T * B, -1), self.w_ih_t, out=p.reshape(T * B, 3 * H))
        np.add(p, bias, out=p)
        for t in range(T):
            rz, n = gates[t, :, : 2 * H], gates[t, :, 2 * H :]
            np.matmul(h[t], self.w_hh_t, out=tmp)
            np.add(p[t, :, : 2 * H], tmp[:, : 2 * H], out=rz)
            np.tanh(rz, out=rz)
            np.multiply(rz, 0.5, out=rz)
            np.add(rz, 0.5, out=rz)  # r, z = σ(x + q)
            r, z = rz[:, :H], rz[:, H:]
            np.add(tmp[:, 2 * H :], b_hn, out=q_n[t])  # q_n
            np.multiply(r, q_n[t], out=n)
            np.add(n, p[t, :, 2 * H :], out=n)
            np.tanh(n, out=n)  # n = tanh(x_n + r ⊙ q_n)
            np.subtract(h[t], n, out=self.tmp_h)
            np.multiply(z, self.tmp_h, out=self.tmp_h)
            np.add(n, self.tmp_h, out=h[t + 1])  # h_t = n + z ⊙ (h_{t-1} - n)
        return h

    def backward(self, params: dict, x: np.ndarray, d_outputs: np.ndarray | None, d_last: np.ndarray | None) -> dict:
        """BPTT. With dh_t (from the loss and from step t+1), all factors precomputed for all steps:

            da_n = dh_t ⊙ (1-z)(1-n²)                     (a_n = x_n + r ⊙ q_n)
            da_z = dh_t ⊙ (h_{t-1} - n) z(1-z),   da_r = da_n ⊙ q_n r(1-r)
            dQ_t = [da_r, da_z, da_n ⊙ r]  (d of h_{t-1} W_hhᵀ + b_hh),   dP_t = [da_r, da_z, da_n]
            dh_{t-1} = dQ_t W_hh + dh_t ⊙ z (+ the loss's part)
            dW_hh = Σ_t dQ_tᵀ h_{t-1},  db_hh = Σ_t dQ_t,  dW_ih = Σ_t dP_tᵀ x_t,  db_ih = Σ_t dP_t
        """
        T, B, H = self.q_n.shape
        gates, h, k, tmp = self.gates, self.h, self.d_q, self.tmp_big
        r, z, n = gates[..., :H], gates[..., H : 2 * H], gates[..., 2 * H :]
        k_n = self.k_n
        np.multiply(n, n, out=k_n)
        np.subtract(1, k_n, out=k_n)
        np.subtract(1, z, out=tmp)
        np.multiply(k_n, tmp, out=k_n)  # (1-z)(1-n²): da_n = dh ⊙ k_n
        k_r, k_z, k_qn = k[..., :H], k[..., H : 2 * H], k[..., 2 * H :]
        np.subtract(1, r, out=k_r)
        np.multiply(k_r, r, out=k_r)
        np.multiply(k_r, self.q_n, out=k_r)
        np.multiply(k_r, k_n, out=k_r)  # da_r = dh ⊙ k_n q_n r(1-r)
        np.multiply(z, tmp, out=k_z)  # z(1-z)
        np.subtract(h[:-1], n, out=tmp)
        np.multiply(k_z, tmp, out=k_z)  # da_z = dh ⊙ (h_{t-1} - n) z(1-z)
        np.multiply(k_n, r, out=k_qn)  # dQ_n = dh ⊙ k_n r
        k3 = k.reshape(T, B, 3, H)
        w_hh, d_h_all, tmp_h = params["weight_hh_l0"], self.d_h_all, self.tmp_h

        if d_outputs is None:
            d_h_all[T - 1] = d_last
        else:
            d_h_all[...] = d_outputs
        for t in range(T - 1, -1, -1):
            dh = d_h_all[t]
            np.multiply(k3[t], dh[:, None, :], out=k3[t])  # dQ_t
            if t == 0:
                break
            np.multiply(dh, z[t], out=tmp_h)
            if d_outputs is None:
                np.matmul(k[t], w_hh, out=d_h_all[t - 1])
            else:
                np.add(d_h_all[t - 1], tmp_h, out=tmp_h)
                np.matmul(k[t], w_hh, out=d_h_all[t - 1])
            np.add(d_h_all[t - 1], tmp_h, out=d_h_all[t - 1])  # dh_{t-1} = dQ_t W_hh + dh_t ⊙ z
        d_q = k
        grads = _weight_gradients(d_q, None, None, h, self.ones)  # dW_hh, db_hh from dQ
        np.multiply(d_h_all, k_n, out=d_q[..., 2 * H :])  # dP: da_n in place of dQ_n
        grads.update(_weight_gradients(None, d_q, x, None, self.ones))  # dW_ih, db_ih from dP
        return grads


class RNNCell:
    """The Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)."""

    def __init__(self, steps: int, batch: int, inputs: int, hidden: int, dtype):
        T, B, H = steps, batch, hidden
        self.h = np.zeros((T + 1, B, H), dtype)  # h[1:] first holds the input projection
        self.d_a = np.empty((T, B, H), dtype)  # 1 - h_t², then (in place) da_t
        self.d_h, self.tmp_h = np.empty((B, H), dtype), np.empty((B, H), dtype)
        self.w_hh_t = np.empty((H, H), dtype)
        self.ones = np.ones(T * B, dtype)

    def forward(self, params: dict, x: np.ndarray) -> np.ndarray:
        """The forward over all steps; returns h (T+1, B, H)."""
        T, B, H = self.d_a.shape
        h = self.h
        np.matmul(x.reshape(T * B, -1), params["weight_ih_l0"].T, out=h[1:].reshape(T * B, H))
        np.add(h[1:], params["bias_ih_l0"] + params["bias_hh_l0"], out=h[1:])
        np.copyto(self.w_hh_t, params["weight_hh_l0"].T)
        for t in range(T):
            if t:
                np.matmul(h[t], self.w_hh_t, out=self.tmp_h)
                np.add(h[t + 1], self.tmp_h, out=h[t + 1])
            np.tanh(h[t + 1], out=h[t + 1])
        return h

    def backward(self, params: dict, x: np.ndarray, d_outputs: np.ndarray | None, d_last: np.ndarray | None) -> dict:
        """BPTT: da_t = dh_t ⊙ (1 - h_t²),  dh_{t-1} = da_t W_hh (+ the loss's part),
        dW_ih = Σ_t da_tᵀ x_t,  dW_hh = Σ_t da_tᵀ h_{t-1},  db_ih = db_hh = Σ_t da_t."""
        T = self.d_a.shape[0]
        d_a, w_hh = self.d_a, params["weight_hh_l0"]
        np.multiply(self.h[1:], self.h[1:], out=d_a)
        np.subtract(1, d_a, out=d_a)  # tanh' = 1 - h²
        if d_outputs is None:
            self.d_h[...] = d_last
        for t in range(T - 1, -1, -1):
            dh = self.d_h if d_outputs is None else d_outputs[t]
            np.multiply(d_a[t], dh, out=d_a[t])
            if t == 0:
                break
            if d_outputs is None:
                np.matmul(d_a[t], w_hh, out=self.d_h)
            else:
                np.matmul(d_a[t], w_hh, out=self.tmp_h)
                np.add(d_outputs[t - 1], self.tmp_h, out=d_outputs[t - 1])
        return _weight_gradients(d_a, d_a, x, self.h, self.ones)


def _weight_gradients(d_hidden, d_input, x, h, ones) -> dict:
    """The weight and bias gradients, each ONE product over all steps: from dQ (T, B, G·H), the
    gradient of h_{t-1} W_hhᵀ + b_hh, dW_hh = Σ_{t≥1} dQ_tᵀ h_{t-1} (h_0 = 0) and db_hh = Σ dQ; from
    dP, that of x_t W_ihᵀ + b_ih, dW_ih = Σ_t dP_tᵀ x_t and db_ih = Σ dP. Either may be None."""
    grads = {}
    if d_hidden is not None:
        T, B, G = d_hidden.shape
        grads["weight_hh_l0"] = d_hidden[1:].reshape(-1, G).T @ h[1:T].reshape((T - 1) * B, -1)
        grads["bias_hh_l0"] = ones @ d_hidden.reshape(T * B, G)
    if d_input is not None:
        T, B, G = d_input.shape
        flat = d_input.reshape(T * B, G)
        grads["weight_ih_l0"] = flat.T @ x.reshape(T * B, -1)
        grads["bias_ih_l0"] = grads["bias_hh_l0"] if d_input is d_hidden else ones @ flat
    return grads


CELLS = {"lstm": LSTMCell, "gru": GRUCell, "rnn_tanh": RNNCell}


# ---------------------------------------------------------------- heads and losses
class CrossEntropyHead:
    """logits = h_t W_headᵀ + b_head at every step, L = mean over the T·B positions of -log softmax[target]:

        L = mean(logsumexp(logits) - logits[target]),   dlogits = (softmax - onehot(target)) / (T·B)
        dW_head = dlogitsᵀ H,   db_head = Σ dlogits,   dh_t (the loss's part) = dlogits W_head
    """

    def __init__(self, steps: int, batch: int, hidden: int, outputs: int, target: np.ndarray, dtype):
        self.rows = np.arange(steps * batch)
        self.target = target.reshape(-1)
        self.logits = np.empty((steps * batch, outputs), dtype)
        self.d_outputs = np.empty((steps, batch, hidden), dtype)
        self.ones = np.ones(steps * batch, dtype)

    def __call__(self, params: dict, h: np.ndarray) -> tuple:
        """The loss, the head's gradients and dL/d(outputs) (T, B, H), from h (T+1, B, H)."""
        T, B, H = self.d_outputs.shape
        outputs = h[1:].reshape(T * B, H)
        logits, w = self.logits, params["head.weight"]
        np.matmul(outputs, w.T, out=logits)
        np.add(logits, params["head.bias"], out=logits)
        np.subtract(logits, logits.max(axis=1, keepdims=True), out=logits)  # stable: the max is 0
        picked = logits[self.rows, self.target]
        np.exp(logits, out=logits)
        total = logits.sum(axis=1, keepdims=True)
        loss = float(np.log(total).mean() - picked.mean())
        np.divide(logits, total * (T * B), out=logits)  # softmax / (T·B)
        logits[self.rows, self.target] -= 1.0 / (T * B)  # dlogits
        grads = {"head.weight": logits.T @ outputs, "head.bias": self.ones @ logits}
        np.matmul(logits, w, out=self.d_outputs.reshape(T * B, H))
        return loss, grads, self.d_outputs


class MSEHead:
    """pred = h_T W_headᵀ + b_head on the last state, L = mean((pred - y)²):
    dpred = 2 (pred - y) / numel,  dW_head = dpredᵀ h_T,  db_head = Σ dpred,  dh_T = dpred W_head."""

    def __init__(self, target: np.ndarray):
        self.target = target

    def __call__(self, params: dict, h: np.ndarray) -> tuple:
        """The loss, the head's gradients and dL/dh_T (B, H), from h (T+1, B, H)."""
        last, w = h[-1], params["head.weight"]
        diff = last @ w.T + params["head.bias"] - self.target
        loss = float(np.mean(diff * diff))
        d_pred = diff * (2.0 / diff.size)
        return loss, {"head.weight": d_pred.T @ last, "head.bias": d_pred.sum(axis=0)}, d_pred @ w


# ---------------------------------------------------------------- steps
def make_gradients(cell: str, loss: str, params: dict, data: tuple):
    """``gradients()`` -> (loss, {name: gradient}) of one step of a ``cell`` layer and a ``loss`` head
    on ``data`` = (x, target), at the current values of ``params``; the sizes come from the arrays.
    Buffers are allocated here, once: the returned gradients are overwritten by the next call."""
    x, target = data
    T, B, inputs = x.shape
    hidden, dtype = params["weight_hh_l0"].shape[1], params["weight_hh_l0"].dtype
    layer = CELLS[cell](T, B, inputs, hidden, dtype)
    if loss == "cross_entropy":
        head = CrossEntropyHead(T, B, hidden, params["head.weight"].shape[0], target, dtype)
    else:
        head = MSEHead(target)

    def gradients() -> tuple:
        h = layer.forward(params, x)
        value, grads, d = head(params, h)
        per_step = d.ndim == 3  # cross-entropy: every step's output; MSE: the last state
        grads.update(layer.backward(params, x, d if per_step else None, None if per_step else d))
        return value, grads

    return gradients


def make_step(cell: str, loss: str, params: dict, data: tuple, lr: float = LEARNING_RATE):
    """``step()``: one training step (``make_gradients``'s, then SGD θ ← θ - lr·dθ in place) -> the loss."""
    gradients = make_gradients(cell, loss, params, data)

    def step() -> float:
        value, grads = gradients()
        for name, grad in grads.items():
            params[name] -= lr * grad
        return value

    return step


def make_char_step(params: dict, data: tuple, lr: float = LEARNING_RATE):
    """One training step of "char": LSTM, cross-entropy on every step's output."""
    return make_step("lstm", "cross_entropy", params, data, lr)


def make_tiny_step(params: dict, data: tuple, lr: float = LEARNING_RATE):
    """One training step of "tiny": tanh RNN, cross-entropy on every step's output."""
    return make_step("rnn_tanh", "cross_entropy", params, data, lr)


def make_gru_step(params: dict, data: tuple, lr: float = LEARNING_RATE):
    """One training step of "gru": GRU, MSE on the last state."""
    return make_step("gru", "mse", params, data, lr)


def make_long_step(params: dict, data: tuple, lr: float = LEARNING_RATE):
    """One training step of "long": LSTM, MSE on the last state."""
    return make_step("lstm", "mse", params, data, lr)


def make_char_gradients(params: dict, data: tuple):
    """The loss and gradients of one "char" step, without the update."""
    return make_gradients("lstm", "cross_entropy", params, data)


def make_tiny_gradients(params: dict, data: tuple):
    """The loss and gradients of one "tiny" step, without the update."""
    return make_gradients("rnn_tanh", "cross_entropy", params, data)


def make_gru_gradients(params: dict, data: tuple):
    """The loss and gradients of one "gru" step, without the update."""
    return make_gradients("gru", "mse", params, data)


def make_long_gradients(params: dict, data: tuple):
    """The loss and gradients of one "long" step, without the update."""
    return make_gradients("lstm", "mse", params, data)


STEP_MAKERS = {"char": make_char_step, "tiny": make_tiny_step, "gru": make_gru_step, "long": make_long_step}
GRADIENT_MAKERS = {"char": make_char_gradients, "tiny": make_tiny_gradients, "gru": make_gru_gradients,
                   "long": make_long_gradients}


def sized(name: str, **sizes) -> Workload:
    """The workload ``name`` with some sizes changed (e.g. ``steps=5, batch=3, hidden=7``)."""
    return replace(WORKLOADS[name], **sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    for name in args.workloads:
        workload = WORKLOADS[name]
        step = STEP_MAKERS[name](init_params(workload), make_data(workload))
        step()
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        print(f"{name:6s} {1000 * float(np.median(times)):9.3f} ms per step (median of {args.repeats})")


if __name__ == "__main__":
    main()
