"""Step 7: backpropagation through time, by hand and by the engine, and the same numbers from tinygrad_rnn.

A tanh RNN applies one step T times with the same weights (rows are batch elements):

    a_t = x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh,    h_t = tanh(a_t),    L = Σ_t Σ V_t ⊙ h_t.

Unrolled, it is an ordinary graph, so step 5's engine differentiates it with nothing new. By
hand, the gradient of h_t has two roads, its output and the next step; walking t from T down
to 1 (column vectors: dh_{t-1} = W_hhᵀ((1 - h_t²) ⊙ dh_t)) and summing each weight's share over
the steps is BPTT. Both are checked against ``tinygrad_rnn.nn.RNN`` with the same weights.

Run it: ``python docs/learn/step7_bptt.py``.
"""

import heapq
import itertools

import numpy as np

T, N, I, H = 3, 2, 2, 3  # steps, batch, input size, hidden size
_rng = np.random.default_rng(7)
INPUTS = {name: _rng.normal(scale=0.8, size=shape) for name, shape in [
    ("x", (T, N, I)), ("h0", (N, H)), ("weight_ih_l0", (H, I)), ("weight_hh_l0", (H, H)),
    ("bias_ih_l0", (H,)), ("bias_hh_l0", (H,))]}  # PyTorch's (and tinygrad_rnn's) parameter names
V = _rng.normal(size=(T, N, H))  # the loss weights each output: dL/dh_t from the output road is V_t


def gradients():
    """BPTT written out: the forward pass keeps every h_t, the backward pass walks t = T, ..., 1."""
    x, w_ih, w_hh = INPUTS["x"], INPUTS["weight_ih_l0"], INPUTS["weight_hh_l0"]
    hs = [INPUTS["h0"]]  # hs[t] is h_t; h_0 is the initial state
    for t in range(T):
        hs.append(np.tanh(x[t] @ w_ih.T + INPUTS["bias_ih_l0"] + hs[-1] @ w_hh.T + INPUTS["bias_hh_l0"]))
    d = {name: np.zeros_like(value) for name, value in INPUTS.items()}
    dh = np.zeros((N, H))  # the gradient reaching h_T from later: none, L only reads the outputs
    for t in range(T, 0, -1):
        dh = dh + V[t - 1]  # h_t's two roads add: from step t+1 (dh) and from its own output (V_t)
        da = (1.0 - hs[t] ** 2) * dh  # through the tanh
        d["weight_ih_l0"] += da.T @ x[t - 1]  # the weights are shared by every step: their shares add up
        d["weight_hh_l0"] += da.T @ hs[t - 1]
        d["bias_ih_l0"] += da.sum(axis=0)
        d["bias_hh_l0"] += da.sum(axis=0)
        d["x"][t - 1] = da @ w_ih
        dh = da @ w_hh  # one step back: as rows, dh_{t-1} = ((1 - h_t²) ⊙ dh_t) W_hh
    d["h0"] = dh
    return d


# ---------------------------------------------------------------- step 5's engine, plus MatMul and transpose
def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (step 3): the biases are broadcast over the batch."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    return grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


class Tensor:
    """Step 5's tensor and heap walk."""

    def __init__(self, data, requires_grad=False):
        self.data = np.asarray(data, dtype=np.float64)
        self.requires_grad, self.grad, self.grad_fn = requires_grad, None, None

    def backward(self):
        """Fill ``.grad`` of every tensor this one depends on, the deepest node first."""
        self.grad, heap, tie = np.ones_like(self.data), [(-self.grad_fn.generation, 0, self)], itertools.count(1)
        while heap:
            t = heapq.heappop(heap)[2]
            for inp, g in zip(t.grad_fn.inputs, t.grad_fn.backward(t.grad)):
                if inp.requires_grad:
                    if inp.grad is None and inp.grad_fn is not None:  # first gradient to arrive: queue it
                        heapq.heappush(heap, (-inp.grad_fn.generation, next(tie), inp))
                    inp.grad = g if inp.grad is None else inp.grad + g


class Function:
    """Step 5's node."""

    @classmethod
    def apply(cls, *inputs):
        """Run the op and record the node with its generation."""
        node = cls()
        out = Tensor(node.forward(*(t.data for t in inputs)))
        if any(t.requires_grad for t in inputs):
            node.inputs = inputs
            node.generation = 1 + max(t.grad_fn.generation if t.grad_fn else 0 for t in inputs)
            out.requires_grad, out.grad_fn = True, node
        return out


def register(name):
    """Class decorator: make the op a Tensor method (step 4)."""
    def attach(cls):
        setattr(Tensor, name, lambda *args: cls.apply(*args))
        return cls
    return attach


@register("__add__")
class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b
    def backward(self, grad):
        return unbroadcast(grad, self.shapes[0]), unbroadcast(grad, self.shapes[1])


@register("__mul__")
class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b
    def backward(self, grad):
        return unbroadcast(grad * self.b, self.a.shape), unbroadcast(grad * self.a, self.b.shape)


@register("__matmul__")
class MatMul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b
    def backward(self, grad):
        return grad @ self.b.T, self.a.T @ grad


@register("transpose")
class Transpose(Function):
    def forward(self, a):
        return a.T
    def backward(self, grad):
        return (grad.T,)


@register("tanh")
class Tanh(Function):
    def forward(self, a):
        self.y = np.tanh(a)
        return self.y
    def backward(self, grad):
        return (grad * (1.0 - self.y * self.y),)


@register("sum")
class Sum(Function):
    def forward(self, a):
        self.shape = a.shape
        return a.sum()
    def backward(self, grad):
        return (np.broadcast_to(grad, self.shape),)


def engine_gradients():
    """The same loss unrolled as an ordinary graph of this file's ops; the heap walk does BPTT by itself."""
    p = {name: Tensor(value, requires_grad=True) for name, value in INPUTS.items() if name != "x"}
    xs = [Tensor(INPUTS["x"][t], requires_grad=True) for t in range(T)]  # one leaf per step: no indexing op needed
    h, loss = p["h0"], Tensor(0.0)
    for t in range(T):
        h = (xs[t] @ p["weight_ih_l0"].transpose() + p["bias_ih_l0"]
             + h @ p["weight_hh_l0"].transpose() + p["bias_hh_l0"]).tanh()
        loss = loss + (h * Tensor(V[t])).sum()
    loss.backward()
    return {"x": np.stack([xt.grad for xt in xs])} | {name: t.grad for name, t in p.items()}


def tinygrad_rnn_gradients():
    """The same gradients from ``tinygrad_rnn.nn.RNN`` loaded with the same weights (float64)."""
    import tinygrad_rnn as tr

    rnn = tr.nn.RNN(I, H).to(tr.float64)
    rnn.load_state_dict({k: v for k, v in INPUTS.items() if k.startswith(("weight", "bias"))})
    x = tr.tensor(INPUTS["x"], requires_grad=True)
    h0 = tr.tensor(INPUTS["h0"][None], requires_grad=True)  # (layers, batch, hidden)
    out, _ = rnn(x, h0)
    (out * tr.tensor(V)).sum().backward()
    return {"x": x.grad.numpy(), "h0": h0.grad.numpy()[0]} | {n: p.grad.numpy() for n, p in rnn.named_parameters()}


if __name__ == "__main__":
    by_hand, by_engine = gradients(), engine_gradients()
    for name, g in by_hand.items():
        print(f"d{name}: hand vs engine, largest difference {np.abs(g - by_engine[name]).max():.1e}")
    print("dweight_hh_l0 by hand:\n", by_hand["weight_hh_l0"].round(6))
    try:
        theirs = tinygrad_rnn_gradients()
    except ImportError:  # run from the repository root (or pip install .) to include this check
        print("tinygrad_rnn is not importable here: its check is skipped")
    else:
        print("largest difference from tinygrad_rnn.nn.RNN:", max(np.abs(by_hand[k] - theirs[k]).max() for k in theirs))
