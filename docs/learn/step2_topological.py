"""Step 2: one ``backward()`` call, in topological order.

Step 1's ``Value`` again (the same closures), plus a ``backward()`` method that finds the order
itself: a depth-first search lists every value after all the values it was made from (a
topological order); walking that list backwards runs each closure exactly once, after every
consumer of the value has sent its share. The obvious shortcut, "run my closure, then recurse
into my parents", breaks as soon as a value is used twice, which this file shows.

Run it: ``python docs/learn/step2_topological.py``.
"""

import math


class Value:
    """Step 1's scalar, plus ``backward()``."""

    def __init__(self, data, parents=()):
        self.data, self.grad, self.parents = float(data), 0.0, parents
        self._backward = lambda: None

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad  # "+=": every use of a value adds its share
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __sub__(self, other):
        return self + other * -1.0

    def __rmul__(self, other):
        return self * other

    def tanh(self):
        """tanh of this value; its derivative, 1 - tanh², is read from the output."""
        out = Value(math.tanh(self.data), (self,))

        def _backward():
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        """Fill ``.grad`` of every value this one depends on: d(self)/d(value)."""
        order, seen = [], set()

        def visit(v):  # depth-first: a value is appended only after all of its parents
            if id(v) not in seen:
                seen.add(id(v))
                for parent in v.parents:
                    visit(parent)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):  # consumers before the values they consumed
            v._backward()

    def backward_naive(self):
        """The tempting shortcut, kept to show its bug: run my closure, then recurse into my parents."""
        self.grad = 1.0

        def run(v):
            v._backward()
            for parent in v.parents:
                run(parent)  # a parent used twice is run twice, the first time with half its gradient

        run(self)


INPUTS = {"x": 0.5, "w": -1.5}


def loss(x, w):
    """The example: h = tanh(x*w) is used three times and x twice. Works on any engine's scalars."""
    h = (x * w).tanh()
    return h * h + h * x - 0.5 * w


def gradients():
    """dL/dx and dL/dw for INPUTS, from one ``backward()`` call."""
    x, w = Value(INPUTS["x"]), Value(INPUTS["w"])
    loss(x, w).backward()
    return {"x": x.grad, "w": w.grad}


def closed_form():
    """The same derivatives worked out on paper: with h = tanh(xw), h' = 1 - h², L = h² + hx - w/2."""
    x, w = INPUTS["x"], INPUTS["w"]
    h = math.tanh(x * w)
    dL_dh = 2 * h + x
    return {"x": dL_dh * (1 - h * h) * w + h, "w": dL_dh * (1 - h * h) * x - 0.5}


if __name__ == "__main__":
    x, w = Value(INPUTS["x"]), Value(INPUTS["w"])
    loss(x, w).backward_naive()
    naive = {"x": x.grad, "w": w.grad}
    print("L = h*h + h*x - 0.5*w with h = tanh(x*w), at", INPUTS)
    for name, g in gradients().items():
        print(f"  dL/d{name}: topological {g:+.6f}   closed form {closed_form()[name]:+.6f}   naive {naive[name]:+.6f}")
