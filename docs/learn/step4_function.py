"""Step 4: ops as ``Function`` classes, forward and backward side by side.

Step 3 hid each derivative in a closure. Here an op is a class whose ``forward`` (arrays in,
array out) and ``backward`` (output's gradient in, inputs' gradients out) sit side by side.
``Function.apply`` runs ``forward`` and *records*: the node keeps its inputs, the output keeps
the node as ``grad_fn``. That record is the whole graph; the walk is step 3's, over ``grad_fn``.

Run it: ``python docs/learn/step4_function.py``.
"""

import numpy as np


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (step 3's loop, as two sums): axes added in front, then axes stretched from 1."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    return grad.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


class Tensor:
    """An array, its gradient (None until backward), and ``grad_fn``: the node that made it (None for a leaf)."""

    def __init__(self, data, requires_grad=False):
        self.data = np.asarray(data, dtype=np.float64)
        self.requires_grad, self.grad, self.grad_fn = requires_grad, None, None

    def backward(self):
        """Fill ``.grad`` of every tensor this one depends on, walking ``grad_fn`` links consumers-first."""
        order, seen = [], set()

        def visit(t):
            if id(t) not in seen and t.grad_fn is not None:
                seen.add(id(t))
                for parent in t.grad_fn.inputs:
                    visit(parent)
                order.append(t)

        visit(self)
        self.grad = np.ones_like(self.data)
        for t in reversed(order):
            for inp, g in zip(t.grad_fn.inputs, t.grad_fn.backward(t.grad)):
                if inp.requires_grad:  # constants (Python numbers) need no gradient
                    inp.grad = g if inp.grad is None else inp.grad + g


class Function:
    """A node: ``forward(*arrays) -> array`` and, next to it, ``backward(grad) -> one gradient per input``."""

    @classmethod
    def apply(cls, *inputs):
        """Run the op on tensors and, if any input wants a gradient, record the node."""
        node = cls()
        out = Tensor(node.forward(*(t.data for t in inputs)))
        if any(t.requires_grad for t in inputs):
            node.inputs = inputs  # the edges of the graph, pointing back towards the leaves
            out.requires_grad, out.grad_fn = True, node
        return out

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"  # the name tinygrad_rnn (and PyTorch) print for a node


def register(name):
    """Class decorator: make the op a Tensor method (``x.tanh()``, ``a + b``), as tinygrad_rnn/ops/registry.py does."""
    def attach(cls):
        # Python numbers become constant tensors (requires_grad=False), so ``t * 2.0`` works.
        setattr(Tensor, name, lambda *args: cls.apply(*(a if isinstance(a, Tensor) else Tensor(a) for a in args)))
        return cls
    return attach


@register("__add__")
class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape  # all that backward needs: the values themselves never matter
        return a + b
    def backward(self, grad):
        return unbroadcast(grad, self.shapes[0]), unbroadcast(grad, self.shapes[1])


@register("__mul__")
class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b  # saved for backward: each input's gradient reads the other input
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


@register("tanh")
class Tanh(Function):
    def forward(self, a):
        self.y = np.tanh(a)  # saved: the derivative is 1 - y²
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


_rng = np.random.default_rng(3)
INPUTS = {name: _rng.normal(size=shape) for name, shape in [("x", (3, 2)), ("w", (2, 4)), ("b", (4,)), ("s", (3, 1))]}


def loss(x, w, b, s):
    """Step 3's example, unchanged: the same formula runs on any engine's tensors."""
    return ((x @ w + b).tanh() * s).sum()


def gradients():
    """dL/d(each input) for INPUTS, as arrays."""
    tensors = {name: Tensor(value, requires_grad=True) for name, value in INPUTS.items()}
    loss(**tensors).backward()
    return {name: t.grad for name, t in tensors.items()}


if __name__ == "__main__":
    x, w = Tensor(INPUTS["x"], requires_grad=True), Tensor(INPUTS["w"], requires_grad=True)
    y = (x @ w).tanh()
    print("y.grad_fn:", y.grad_fn, "<- its input's grad_fn:", y.grad_fn.inputs[0].grad_fn)
    print("a leaf's grad_fn:", x.grad_fn, "; a constant records nothing:", (Tensor(1.0) * 2.0).grad_fn)
    for name, g in gradients().items():
        print(f"dL/d{name} =", np.round(g, 4).tolist())
