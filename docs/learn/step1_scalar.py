"""Step 1: one number that remembers how it was made, and a closure that sends its gradient back.

Every ``Value`` holds a float (``data``), the derivative of the final result with respect to it
(``grad``, filled in by the backward pass), the values it was computed from (``parents``) and a
closure, ``_backward``, that knows the local derivatives of the op that made it. Calling a
value's closure moves its ``grad`` one op back, into its parents. In this step *you* call the
closures, in the right order; step 2 makes the order automatic.

Run it: ``python docs/learn/step1_scalar.py``.
"""

import math


class Value:
    """A scalar in the graph: its number, its gradient, its parents, and how to reach them."""

    def __init__(self, data, parents=()):
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self._backward = lambda: None  # a leaf (an input) has nowhere to send its gradient

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            # d(a+b)/da = d(a+b)/db = 1. "+=" and not "=": a value used by two ops gets a share from each.
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            # d(ab)/da = b and d(ab)/db = a: each input's gradient reads the *other* input's number.
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __sub__(self, other):
        return self + other * -1.0  # no new derivative to write: subtraction is built from + and *

    def __rmul__(self, other):
        return self * other

    def tanh(self):
        """tanh of this value; its derivative, 1 - tanh², is read from the output."""
        out = Value(math.tanh(self.data), (self,))

        def _backward():
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def __repr__(self):
        return f"Value(data={self.data:.6f}, grad={self.grad:.6f})"


INPUTS = {"x": 0.5, "w": -1.5, "b": 0.25, "c": 2.0}


def loss(x, w, b, c):
    """The example: one neuron, tanh(x*w + b), scaled by c and shifted. Works on any engine's scalars."""
    return (x * w + b).tanh() * c - 1.0


def gradients():
    """dL/d(each input) for INPUTS, by calling every closure by hand, consumers first."""
    x, w, b, c = (Value(INPUTS[k]) for k in ("x", "w", "b", "c"))
    xw = x * w
    n = xw + b
    o = n.tanh()
    oc = o * c
    L = oc - 1.0  # one more node: oc + (-1.0), the constant wrapped in a Value of its own
    L.grad = 1.0  # dL/dL
    # The order matters: a value's closure may run only once its own grad is complete.
    for node in (L, oc, o, n, xw):
        node._backward()
    return {"x": x.grad, "w": w.grad, "b": b.grad, "c": c.grad}


def wrong_order():
    """The same graph with the closures called inputs-first: the gradients stay zero (nothing to send yet)."""
    x, w, b, c = (Value(INPUTS[k]) for k in ("x", "w", "b", "c"))
    xw = x * w
    n = xw + b
    o = n.tanh()
    L = o * c
    L.grad = 1.0
    for node in (xw, n, o, L):
        node._backward()
    return {"x": x.grad, "w": w.grad}


if __name__ == "__main__":
    grads = gradients()
    x, w, b, c = (INPUTS[k] for k in ("x", "w", "b", "c"))
    t = math.tanh(x * w + b)
    closed = {"x": c * (1 - t * t) * w, "w": c * (1 - t * t) * x, "b": c * (1 - t * t), "c": t}
    print("L = tanh(x*w + b)*c - 1 at", INPUTS)
    for name, g in grads.items():
        print(f"  dL/d{name} = {g:+.6f}   closed form {closed[name]:+.6f}")
    print("closures called inputs-first instead:", wrong_order())
