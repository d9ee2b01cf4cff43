"""Step 6: backward formulas written with the engine's own Tensor ops, so gradients can be differentiated.

Until step 5 a ``backward`` computed on bare arrays: the gradient it returned was a number with
no history, a dead end for a second differentiation. Here ``backward`` receives a Tensor and
returns Tensors made by ordinary ops (``grad * (1 - y*y)`` for tanh, with ``y`` the output
*tensor*). Normally the engine runs these formulas with recording off; with
``create_graph=True`` they record a graph of their own, from the gradient back to the inputs,
and ``grad`` can walk *that* graph: d²/dx² comes from calling ``grad`` twice.

Run it: ``python docs/learn/step6_higher_order.py``.
"""

import heapq
import itertools

import numpy as np

_recording = [True]  # grad mode: whether ops record a graph (a list, so functions can change it)


class Tensor:
    """Step 5's tensor. Python numbers meeting a tensor are filled out to its shape, so no op sees two shapes."""

    def __init__(self, data, requires_grad=False):
        self.data = np.asarray(data, dtype=np.float64)
        self.requires_grad, self.grad_fn = requires_grad, None

    def _lift(self, other):
        return other if isinstance(other, Tensor) else Tensor(np.full(self.data.shape, float(other)))

    def __add__(self, other):
        return Add.apply(self, self._lift(other))

    def __mul__(self, other):
        return Mul.apply(self, self._lift(other))

    def __rsub__(self, other):  # number - tensor, as in 1 - y*y
        return Add.apply(Neg.apply(self), self._lift(other))

    def tanh(self):
        """Elementwise tanh."""
        return Tanh.apply(self)

    def sum(self):
        """The sum of all elements, a 0-d tensor."""
        return Sum.apply(self)


class Function:
    """Step 5's node. ``backward`` gets a Tensor and must return Tensors made by Tensor ops."""

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on arrays; record the node only while recording is on and an input wants a gradient."""
        node = cls()
        out = Tensor(node.forward(*(t.data for t in inputs), **params))
        if _recording[0] and any(t.requires_grad for t in inputs):
            node.inputs, node.output = inputs, out  # out -> node -> out is a cycle; tinygrad_rnn uses a weakref
            node.generation = 1 + max(t.grad_fn.generation if t.grad_fn else 0 for t in inputs)
            out.requires_grad, out.grad_fn = True, node
        return out


class Add(Function):
    def forward(self, a, b):
        return a + b
    def backward(self, grad):
        return grad, grad


class Mul(Function):
    def forward(self, a, b):
        return a * b
    def backward(self, grad):
        a, b = self.inputs  # tensors, not arrays: the product below is recorded when create_graph is on
        return grad * b, grad * a


class Neg(Function):
    def forward(self, a):
        return -a
    def backward(self, grad):
        return (Neg.apply(grad),)


class Tanh(Function):
    def forward(self, a):
        return np.tanh(a)
    def backward(self, grad):
        y = self.output  # the output tensor, whose own grad_fn leads back to x: d/dx of (1 - y²) can follow it
        return (grad * (1.0 - y * y),)


class Sum(Function):
    def forward(self, a):
        return a.sum()
    def backward(self, grad):
        return (Expand.apply(grad, shape=self.inputs[0].data.shape),)


class Expand(Function):  # a 0-d tensor copied out to a shape: Sum's backward, and Sum is its backward
    def forward(self, a, shape):
        return np.broadcast_to(a, shape).copy()
    def backward(self, grad):
        return (grad.sum(),)


def grad(output, inputs, create_graph=False):
    """d(output)/d(each input) as Tensors. With ``create_graph`` the formulas record, so the results can be
    differentiated again; without, they are plain values."""
    previous, _recording[0] = _recording[0], create_graph
    try:
        grads = {id(output): Tensor(np.ones_like(output.data))}
        heap, tie = [(-output.grad_fn.generation, 0, output)], itertools.count(1)
        while heap:  # step 5's walk; the gradients live in a dict, since they are returned, not stored
            t = heapq.heappop(heap)[2]
            for inp, g in zip(t.grad_fn.inputs, t.grad_fn.backward(grads[id(t)])):
                if not inp.requires_grad:
                    continue
                if id(inp) in grads:
                    grads[id(inp)] = grads[id(inp)] + g  # + is a recorded op too: sums must be differentiable
                else:
                    grads[id(inp)] = g
                    if inp.grad_fn is not None:
                        heapq.heappush(heap, (-inp.grad_fn.generation, next(tie), inp))
    finally:
        _recording[0] = previous
    return [grads[id(t)] for t in inputs]


INPUTS = {"x": np.array([0.3, -1.2, 0.8]), "w": np.array([1.5, 0.5, -2.0])}
X = np.linspace(-2.0, 2.0, 5)  # where the second derivatives are taken


def loss(x, w):
    """First derivatives, compared with tinygrad_rnn: x and w used several times, elementwise."""
    return ((x * w).tanh() * x + w * w * w).sum()


def gradients():
    """dL/dx and dL/dw for INPUTS."""
    x, w = Tensor(INPUTS["x"], requires_grad=True), Tensor(INPUTS["w"], requires_grad=True)
    return {name: g.data for name, g in zip("xw", grad(loss(x, w), [x, w]))}


def second_derivatives(points=X):
    """d²/dx² of tanh(x) and of x³ at each point, by differentiating a gradient."""
    results = {}
    for name, f in (("tanh", lambda x: x.tanh()), ("cube", lambda x: x * x * x)):
        x = Tensor(points, requires_grad=True)
        (first,) = grad(f(x).sum(), [x], create_graph=True)  # elementwise f: d/dx_i of the sum is f'(x_i)
        (second,) = grad(first.sum(), [x])
        results[name] = second.data
    return results


def closed_forms(points=X):
    """The same, by hand: tanh'' = -2 tanh (1 - tanh²), (x³)'' = 6x."""
    t = np.tanh(points)
    return {"tanh": -2 * t * (1 - t * t), "cube": 6 * points}


if __name__ == "__main__":
    print("first derivatives:", {name: g.round(6).tolist() for name, g in gradients().items()})
    print("x =", X.tolist())
    for name, ours in second_derivatives().items():
        print(f"d²/dx² {name}: {ours.round(6).tolist()}\n     closed form: {closed_forms()[name].round(6).tolist()}")
