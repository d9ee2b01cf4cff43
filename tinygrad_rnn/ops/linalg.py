"""Matrix multiplication, 1-D, 2-D and batched, with NumPy's matmul rules."""

from __future__ import annotations

from ..autograd import Function
from .broadcast import broadcast_shape, reshape_to, sum_to_shape


class MatMul(Function):
    """``a @ b``.  For C = A B:  dL/dA = dL/dC Bᵀ  and  dL/dB = Aᵀ dL/dC.

    A 1-D ``a`` acts as a row (1, k) and a 1-D ``b`` as a column (k, 1), as in NumPy;
    batch dimensions broadcast, and their gradient is summed back.
    """

    saves_output = False

    def forward(self, a, b):
        # PyTorch refuses integer (or bool) @ float; NumPy would promote, e.g. int64 @ float32 to float64.
        if (a.dtype.kind == "f") != (b.dtype.kind == "f"):
            floating = a.dtype if a.dtype.kind == "f" else b.dtype
            raise TypeError(
                f"matmul: expected both operands floating point or both integer, got dtypes {a.dtype} and "
                f"{b.dtype}; convert the other operand first (e.g. x.to({str(floating)!r}))"
            )
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
        k_a = a.shape[-1]
        k_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned: the last dimension of the "
                f"first ({k_a}) must equal the {'second-to-last' if b.ndim > 1 else 'only'} dimension "
                f"of the second ({k_b})"
            )
        if a.ndim > 2 and b.ndim > 2:
            try:
                broadcast_shape("matmul", a.shape[:-2], b.shape[:-2])
            except ValueError:
                raise ValueError(
                    f"matmul: the batch dimensions of shapes {a.shape} and {b.shape} "
                    f"({a.shape[:-2]} and {b.shape[:-2]}) cannot be broadcast together"
                ) from None
        if a.ndim > 2 and b.ndim == 2:  # batch dimensions on ``a`` alone (a Linear layer over a sequence):
            # one product over all rows, not one small product per batch entry
            return (a.reshape(-1, k_a) @ b).reshape(a.shape[:-1] + b.shape[1:])
        return a @ b

    def backward(self, grad):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        if a.ndim > 2 and b.ndim == 2:  # as in forward, the rows of every batch entry together
            rows, grad_rows = a.reshape(-1, a.shape[-1]), grad.reshape(-1, grad.shape[-1])
            # dL/dB = Σ over all rows of aᵀ dL/dC: one product instead of a batch of them summed after
            return (reshape_to(grad_rows @ b.mT, a.shape) if need_a else None,
                    rows.mT @ grad_rows if need_b else None)
        a2 = a if a.ndim > 1 else a.reshape(1, -1)
        b2 = b if b.ndim > 1 else b.reshape(-1, 1)
        shape = list(grad.shape)  # the output's shape with the dropped 1-D axes put back
        if b.ndim == 1:
            shape.append(1)
        if a.ndim == 1:
            shape.insert(len(shape) - 1, 1)
        grad = reshape_to(grad, tuple(shape))
        grad_a = reshape_to(sum_to_shape(grad @ b2.mT, a2.shape), a.shape) if need_a else None
        grad_b = reshape_to(sum_to_shape(a2.mT @ grad, b2.shape), b.shape) if need_b else None
        return grad_a, grad_b
