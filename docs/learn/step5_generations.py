"""Step 5: generation numbers and a heap, so the walk never recurses.

Step 4 found the order with a recursive depth-first search: one Python frame per node on the
deepest path. A recurrence unrolled over 10,000 steps is a path of tens of thousands of ops, far
past Python's recursion limit (about 1,000 frames), and the walk dies with ``RecursionError``.

The fix: when a node is made, give it a *generation*, one more than its deepest input's. Every
consumer of a tensor then has a higher generation than the tensor's own node. Pop nodes from a
heap, highest generation first: when a tensor's node comes out, every consumer has already run,
so its gradient is complete. A loop and a heap; no recursion, no separate sorting pass.

Run it: ``python docs/learn/step5_generations.py``.
"""

import heapq
import itertools
import time

import numpy as np


class Tensor:
    """Step 4's tensor; ``backward`` now walks a heap, ``backward_recursive`` is step 4's walk, kept to compare."""

    def __init__(self, data, requires_grad=False):
        self.data = np.asarray(data, dtype=np.float64)
        self.requires_grad, self.grad, self.grad_fn = requires_grad, None, None

    def backward(self):
        """Fill ``.grad`` of every tensor this one depends on: the deepest node first, from a heap."""
        self.grad = np.ones_like(self.data)
        heap, tie = [], itertools.count()  # tie: equal generations must never compare two tensors
        heapq.heappush(heap, (-self.grad_fn.generation, next(tie), self))  # heapq pops the smallest: negate
        while heap:
            t = heapq.heappop(heap)[2]  # every consumer of t has a higher generation: it ran, t.grad is complete
            for inp in _chain_rule(t):  # a tensor enters the heap once: when its first gradient arrives
                if inp.grad_fn is not None:
                    heapq.heappush(heap, (-inp.grad_fn.generation, next(tie), inp))

    def backward_recursive(self):
        """Step 4's walk, kept to compare: a recursive depth-first search, one Python frame per node."""
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
            _chain_rule(t)


def _chain_rule(t):
    """Run t's node: t.grad in, its inputs' gradients out, added to theirs. Returns the inputs that got their first."""
    first = []
    for inp, g in zip(t.grad_fn.inputs, t.grad_fn.backward(t.grad)):
        if inp.requires_grad:
            if inp.grad is None:
                first.append(inp)
            inp.grad = g if inp.grad is None else inp.grad + g
    return first


class Function:
    """Step 4's node, plus its generation."""

    @classmethod
    def apply(cls, *inputs):
        """Run the op and, if a gradient is wanted, record the node with its generation."""
        node = cls()
        out = Tensor(node.forward(*(t.data for t in inputs)))
        if any(t.requires_grad for t in inputs):
            node.inputs = inputs
            node.generation = 1 + max(t.grad_fn.generation if t.grad_fn else 0 for t in inputs)  # leaves: 0
            out.requires_grad, out.grad_fn = True, node
        return out


def register(name):
    """Class decorator: make the op a Tensor method (step 4)."""
    def attach(cls):
        setattr(Tensor, name, lambda *args: cls.apply(*(a if isinstance(a, Tensor) else Tensor(a) for a in args)))
        return cls
    return attach


@register("__add__")
class Add(Function):
    def forward(self, a, b):
        return a + b  # this step's examples are scalars: no unbroadcast (step 3) needed
    def backward(self, grad):
        return grad, grad


@register("__mul__")
class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b
    def backward(self, grad):
        return grad * self.b, grad * self.a


@register("tanh")
class Tanh(Function):
    def forward(self, a):
        self.y = np.tanh(a)
        return self.y
    def backward(self, grad):
        return (grad * (1.0 - self.y * self.y),)


def chain_gradient(n, walk="heap"):
    """d/dx of a chain of n additions, y = (((x + x) + x) + ...): n + 1 exactly. ``walk``: "heap" or "recursive"."""
    x = Tensor(0.5, requires_grad=True)
    y = x
    for _ in range(n):
        y = y + x  # the chain is n nodes deep, and x is used n + 1 times
    if walk == "heap":
        y.backward()
    else:
        y.backward_recursive()
    return float(x.grad)


INPUTS = {"x": 0.5, "w": -1.5}


def loss(x, w):
    """Step 2's example (the same numbers come out): h = tanh(x*w) used three times, x twice."""
    h = (x * w).tanh()
    return h * h + h * x + w * -0.5  # step 2 wrote "- 0.5 * w": this engine has no subtraction, and needs none


def gradients():
    """dL/dx and dL/dw for INPUTS, from the heap walk."""
    x, w = Tensor(INPUTS["x"], requires_grad=True), Tensor(INPUTS["w"], requires_grad=True)
    loss(x, w).backward()
    return {"x": x.grad, "w": w.grad}


if __name__ == "__main__":
    print("step 2's example:", {name: round(float(g), 6) for name, g in gradients().items()})
    try:
        chain_gradient(100_000, walk="recursive")
    except RecursionError as error:
        print("recursive DFS, 100,000 ops: RecursionError:", error)
    start = time.perf_counter()
    grad = chain_gradient(100_000, walk="heap")
    print(f"heap, 100,000 ops: d/dx = {grad:.0f} (expected 100001) in {time.perf_counter() - start:.2f} s")
