"""Step 3: from numbers to NumPy arrays, where broadcasting makes gradients be summed back to shape.

Step 2's engine with an array in place of a float. Two things change in the closures:

- ``a + b`` with shapes (3, 4) and (4,) copies ``b`` along a new first axis. Each copy
  contributed to the output, so ``b``'s gradient is the output gradient *summed* over the
  copies: ``unbroadcast(grad, b.shape)``. Without it the gradient would not even fit ``b``.
- ``A @ B`` has gradient ``grad @ B.T`` for ``A`` and ``A.T @ grad`` for ``B``: each is the
  only product of the right shapes, and each sums over what the product summed over.

Run it: ``python docs/learn/step3_arrays.py``.
"""

import numpy as np


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: undo what broadcasting did to an input of that shape."""
    while grad.ndim > len(shape):  # axes broadcasting added in front
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):  # axes that were 1 and were stretched
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """An array in the graph: ``data`` and ``grad`` are NumPy arrays of one shape."""

    def __init__(self, data, parents=()):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.parents = parents
        self._backward = lambda: None

    def _make(self, data, parents, backward):
        out = Tensor(data, parents)
        out._backward = lambda: backward(out.grad)
        return out

    def __add__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)

        def backward(g):
            self.grad += unbroadcast(g, self.data.shape)
            other.grad += unbroadcast(g, other.data.shape)

        return self._make(self.data + other.data, (self, other), backward)

    def __mul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)

        def backward(g):
            self.grad += unbroadcast(g * other.data, self.data.shape)
            other.grad += unbroadcast(g * self.data, other.data.shape)

        return self._make(self.data * other.data, (self, other), backward)

    def __matmul__(self, other):  # 2-D @ 2-D only, to keep the transposes readable
        def backward(g):
            self.grad += g @ other.data.T  # (n, m) @ (m, k)ᵀ: sums over k, as the product did
            other.grad += self.data.T @ g

        return self._make(self.data @ other.data, (self, other), backward)

    def tanh(self):
        """Elementwise tanh; its derivative 1 - tanh² is read from the output."""
        y = np.tanh(self.data)

        def backward(g):
            self.grad += g * (1.0 - y * y)

        return self._make(y, (self,), backward)

    def sum(self):
        """The sum of all elements: every element's gradient is the output's (a broadcast back)."""

        def backward(g):
            self.grad += np.broadcast_to(g, self.data.shape)

        return self._make(self.data.sum(), (self,), backward)

    def backward(self):
        """Step 2's topological walk, unchanged; the seed is an array of ones of this shape."""
        order, seen = [], set()

        def visit(t):
            if id(t) not in seen:
                seen.add(id(t))
                for parent in t.parents:
                    visit(parent)
                order.append(t)

        visit(self)
        self.grad = np.ones_like(self.data)
        for t in reversed(order):
            t._backward()


_rng = np.random.default_rng(3)
INPUTS = {"x": _rng.normal(size=(3, 2)), "w": _rng.normal(size=(2, 4)), "b": _rng.normal(size=(4,)),
          "s": _rng.normal(size=(3, 1))}


def loss(x, w, b, s):
    """The example: a layer tanh(x @ w + b), rows scaled by s; b and s are broadcast. Any engine's tensors."""
    return ((x @ w + b).tanh() * s).sum()


def gradients():
    """dL/d(each input) for INPUTS, as arrays of the inputs' shapes."""
    tensors = {name: Tensor(value) for name, value in INPUTS.items()}
    loss(**tensors).backward()
    return {name: t.grad for name, t in tensors.items()}


if __name__ == "__main__":
    print("unbroadcast(ones((3, 4)), (4,)) =", unbroadcast(np.ones((3, 4)), (4,)), " (each b[j] was used 3 times)")
    print("unbroadcast(ones((3, 4)), (3, 1)) =", unbroadcast(np.ones((3, 4)), (3, 1)).ravel())
    for name, g in gradients().items():
        print(f"dL/d{name}: shape {g.shape} (input {INPUTS[name].shape})\n{np.round(g, 4)}")
