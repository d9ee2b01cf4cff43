"""Elementwise ops. Binary ones broadcast like NumPy; their backward sums the
gradient back to each input's own shape (``sum_to_shape``)."""

from __future__ import annotations

from .. import backend
from ..autograd import Function, constant
from .broadcast import broadcast_shape, sum_to_shape
from .registry import register


class _Broadcasting(Function):
    """Base of ops whose array inputs broadcast against each other. Each subclass writes
    ``compute`` (the arrays' op); ``forward`` runs it and turns the array library's broadcasting
    error into one that names the op and every shape. Checking the shapes before each op would
    cost more than the op itself on small arrays, so the check runs only when the op failed."""

    def forward(self, *arrays):
        try:
            return self.compute(*arrays)
        except ValueError:
            broadcast_shape(type(self).__name__.lower(), *(a.shape for a in arrays))  # raises if shapes clash
            raise

    def compute(self, *arrays):
        raise NotImplementedError(f"{type(self).__name__} must implement compute")


# ---------------------------------------------------------------- binary
class Add(_Broadcasting):
    """``a + b``;  d/da = 1, d/db = 1."""

    saves_inputs = False
    saves_output = False

    def compute(self, a, b):
        return a + b

    def backward(self, grad):
        a, b = self.inputs
        return sum_to_shape(grad, a.shape), sum_to_shape(grad, b.shape)


class Sub(_Broadcasting):
    """``a - b``;  d/da = 1, d/db = -1."""

    saves_inputs = False
    saves_output = False

    def compute(self, a, b):
        return a - b

    def backward(self, grad):
        a, b = self.inputs
        return sum_to_shape(grad, a.shape), sum_to_shape(-grad, b.shape)


class Mul(_Broadcasting):
    """``a * b``;  d/da = b, d/db = a."""

    saves_output = False

    def read_inputs(self):  # a is read only for b's gradient and b only for a's: ``h * 0.5`` reads no h
        need_a, need_b = self.needs_input_grad
        return [i for i, needed in ((0, need_b), (1, need_a)) if needed]

    def compute(self, a, b):
        return a * b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (
            sum_to_shape(grad * b, a.shape) if need_a else None,
            sum_to_shape(grad * a, b.shape) if need_b else None,
        )


class AddCMul(_Broadcasting):
    """``input + value · t1 · t2`` (``tr.addcmul``) as one node, where a product, a scaling and a sum
    would make two or three: an LSTM's c' = f ⊙ c + i ⊙ g, a GRU's h' = n + z ⊙ (h - n).
    d/dinput = 1, d/dt1 = value · t2, d/dt2 = value · t1, each summed back to its input's shape."""

    saves_output = False

    def read_inputs(self):  # the input is never read; each factor only for the other's gradient
        _, need_1, need_2 = self.needs_input_grad
        return [i for i, needed in ((1, need_2), (2, need_1)) if needed]

    def forward(self, input, t1, t2, value=1):  # noqa: A002 (PyTorch's name)
        self.value = value
        return super().forward(input, t1, t2)

    def compute(self, input, t1, t2):  # noqa: A002
        product = t1 * t2
        if self.value != 1:
            product *= self.value
        if product.shape != input.shape:  # input broadcasts the product to a larger shape: a new array
            return input + product
        product += input
        return product

    def backward(self, grad):
        input, t1, t2 = self.inputs  # noqa: A001
        need_input, need_1, need_2 = self.needs_input_grad
        scaled = grad if self.value == 1 else grad * self.value
        return (
            sum_to_shape(grad, input.shape) if need_input else None,
            sum_to_shape(scaled * t2, t1.shape) if need_1 else None,
            sum_to_shape(scaled * t1, t2.shape) if need_2 else None,
        )


class Div(_Broadcasting):
    """``a / b``;  d/da = 1/b, d/db = -a/b²."""

    saves_output = False

    def read_inputs(self):  # b is always read; a only for b's gradient
        return [0, 1] if self.needs_input_grad[1] else [1]

    def compute(self, a, b):
        return a / b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (
            sum_to_shape(grad / b, a.shape) if need_a else None,
            sum_to_shape(-grad * a / (b * b), b.shape) if need_b else None,
        )


class Pow(_Broadcasting):
    """``a ** b`` for two tensors;  d/da = b·a^(b-1), d/db = a^b·ln a.

    d/db is undefined for a < 0 (NaN, as in PyTorch) and taken as 0 at a = 0.
    """

    def compute(self, a, b):
        return a**b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = sum_to_shape(grad * b * a ** (b - 1), a.shape)
        if need_b:
            xp = self.xp
            positive = constant(a.array > 0)
            log_a = Where.apply(positive, a, a.new_ones(())).log()  # ln a where a > 0, else 0
            nan_where_negative = constant(xp.where(a.array < 0, xp.nan, 0).astype(a.dtype))
            grad_b = sum_to_shape(grad * self.output * (log_a + nan_where_negative), b.shape)
        return grad_a, grad_b


class Maximum(_Broadcasting):
    """``maximum(a, b)``; the gradient goes to the larger input, split evenly on ties."""

    saves_output = False

    def compute(self, a, b):
        return self.xp.maximum(a, b)

    def backward(self, grad):
        return _split_between(self, grad, self.inputs[0].array > self.inputs[1].array)


class Minimum(_Broadcasting):
    """``minimum(a, b)``; the gradient goes to the smaller input, split evenly on ties."""

    saves_output = False

    def compute(self, a, b):
        return self.xp.minimum(a, b)

    def backward(self, grad):
        return _split_between(self, grad, self.inputs[0].array < self.inputs[1].array)


def _split_between(node, grad, a_wins):
    """Route ``grad`` to ``a`` where it won, to ``b`` where it lost, half each on ties."""
    a, b = node.inputs
    ties = a.array == b.array
    share_a = constant((a_wins + 0.5 * ties).astype(grad.dtype))
    return sum_to_shape(grad * share_a, a.shape), sum_to_shape(grad * (1 - share_a), b.shape)


class Where(_Broadcasting):
    """``where(condition, a, b)``: a where the condition holds, else b.

    The gradient flows to ``a`` where the condition holds and to ``b`` elsewhere;
    the boolean condition gets none.
    """

    saves_output = False

    def read_inputs(self):  # backward reads only the condition: ``x.masked_fill_(m, 0)`` may overwrite x
        return [0]

    def compute(self, condition, a, b):
        return self.xp.where(condition, a, b)

    def backward(self, grad):
        condition, a, b = self.inputs
        zero = grad.new_zeros(())
        need_a, need_b = self.needs_input_grad[1:]
        return (
            None,
            sum_to_shape(Where.apply(condition, grad, zero), a.shape) if need_a else None,
            sum_to_shape(Where.apply(condition, zero, grad), b.shape) if need_b else None,
        )


# ---------------------------------------------------------------- unary
# ``@register(name)`` is all an op of one tensor and no arguments needs beyond its class: it makes
# ``x.name()`` (with the class's docstring) and, with ``function=True``, ``tr.name(x)``; see registry.py.
@register("neg")
class Neg(Function):
    """``-x``;  d/dx = -1."""

    saves_inputs = False
    saves_output = False

    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class PowScalar(Function):
    """``x ** p`` for a Python number p;  d/dx = p·x^(p-1)."""

    saves_output = False

    def forward(self, x, exponent):
        self.exponent = exponent
        return x**exponent

    def backward(self, grad):
        (x,) = self.inputs
        p = self.exponent
        if p == 0:
            return grad.new_zeros(x.shape)  # x⁰ = 1 is flat; p·x^(p-1) would give 0·inf at x = 0
        return grad * p * x ** (p - 1)


@register("exp", function=True)
class Exp(Function):
    """``exp(x)``;  d/dx = exp(x), the output itself."""

    saves_inputs = False

    def forward(self, x):
        return self.xp.exp(x)

    def backward(self, grad):
        return grad * self.output


@register("log", function=True)
class Log(Function):
    """``ln(x)``;  d/dx = 1/x.  ln 0 = -inf and ln of a negative is NaN, without a warning (as PyTorch)."""

    saves_output = False

    def forward(self, x):
        with backend.quiet_math(self.xp):
            return self.xp.log(x)

    def backward(self, grad):
        return grad / self.inputs[0]


@register("sqrt", function=True)
class Sqrt(Function):
    """``√x``;  d/dx = 1/(2√x)."""

    saves_inputs = False

    def forward(self, x):
        return self.xp.sqrt(x)

    def backward(self, grad):
        return grad / (2 * self.output)


@register("abs", function=True)
class Abs(Function):
    """``|x|``;  d/dx = sign(x), 0 at x = 0 (as in PyTorch)."""

    saves_output = False

    def forward(self, x):
        return self.xp.abs(x)

    def backward(self, grad):
        return grad * constant(self.xp.sign(self.inputs[0].array))


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    saves_inputs = False
    saves_output = False

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, grad):
        return Cast.apply(grad, dtype=self.inputs[0].dtype)


@register("sin", function=True)
class Sin(Function):
    """``sin(x)``;  d/dx = cos(x)."""

    saves_output = False

    def forward(self, x):
        return self.xp.sin(x)

    def backward(self, grad):
        return grad * self.inputs[0].cos()


@register("cos", function=True)
class Cos(Function):
    """``cos(x)``;  d/dx = -sin(x)."""

    saves_output = False

    def forward(self, x):
        return self.xp.cos(x)

    def backward(self, grad):
        return -grad * self.inputs[0].sin()
