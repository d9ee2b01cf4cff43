"""Matrix multiplication, 1-D, 2-D and batched, with NumPy's matmul rules."""

from __future__ import annotations

from ..autograd import Function
from .broadcast import broadcast_shape, broadcasts_to, reshape_to, sum_to_shape


class MatMul(Function):
    """``a @ b``.  For C = A B:  dL/dA = dL/dC Bᵀ  and  dL/dB = Aᵀ dL/dC.

    A 1-D ``a`` acts as a row (1, k) and a 1-D ``b`` as a column (k, 1), as in NumPy;
    batch dimensions broadcast, and their gradient is summed back.

    ``transpose_a`` / ``transpose_b`` (2-D operands only) multiply by Aᵀ or Bᵀ without a
    transpose node: a Linear layer's x Wᵀ and every 2-D product's backward (dC Bᵀ, Aᵀ dC)
    are then one node each, and BLAS reads the transposed operand in place.
    """

    saves_output = False

    def forward(self, a, b, transpose_a=False, transpose_b=False):
        self.transposed = transpose_a, transpose_b
        if transpose_a or transpose_b:
            if (transpose_a and a.ndim != 2) or (transpose_b and b.ndim != 2):
                raise ValueError(f"matmul: transposed operands must be 2-D, got shapes {a.shape} and {b.shape}")
            a, b = (a.T if transpose_a else a), (b.T if transpose_b else b)
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
        if a.ndim >= 2 and b.ndim == 2:
            return self._backward_of_rows(grad, a, b, need_a, need_b)
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

    def _backward_of_rows(self, grad, a, b, need_a, need_b):
        """The backward when B is a matrix and A is a matrix or a batch of rows (taken together,
        as in forward). With op(X) = X or Xᵀ as the flags say, C = op(A) op(B) gives
            dL/d op(A) = dC op(B)ᵀ,    dL/d op(B) = op(A)ᵀ dC,
        and a transposed operand's gradient is the transpose of that: every case is one MatMul
        with flags, never a transpose node."""
        t_a, t_b = self.transposed
        if a.ndim > 2:  # rows of every batch entry together (t_a is False here: only 2-D may be transposed)
            rows, grad_rows = a.reshape(-1, a.shape[-1]), grad.reshape(-1, grad.shape[-1])
            grad_a = reshape_to(MatMul.apply(grad_rows, b, transpose_b=not t_b), a.shape) if need_a else None
            grad_b = None
            if need_b:  # dL/dB = Σ over all rows of aᵀ dC: one product, not a batch of them summed after
                grad_b = (MatMul.apply(grad_rows, rows, transpose_a=True) if t_b
                          else MatMul.apply(rows, grad_rows, transpose_a=True))
            return grad_a, grad_b
        grad_a = grad_b = None
        if need_a:  # dA = dC op(B)ᵀ, or with A transposed (dC op(B)ᵀ)ᵀ = op(B) dCᵀ
            grad_a = (MatMul.apply(b, grad, transpose_a=t_b, transpose_b=True) if t_a
                      else MatMul.apply(grad, b, transpose_b=not t_b))
        if need_b:  # dB = op(A)ᵀ dC, or with B transposed (op(A)ᵀ dC)ᵀ = dCᵀ op(A)
            grad_b = (MatMul.apply(grad, a, transpose_a=True, transpose_b=t_a) if t_b
                      else MatMul.apply(a, grad, transpose_a=not t_a))
        return grad_a, grad_b


class AddMM(MatMul):
    """``beta · input + alpha · (mat1 @ mat2)`` for a matrix ``mat2``, a matrix ``mat1`` (or a batch
    of rows, as MatMul takes them: a Linear layer over a sequence) and an ``input`` that broadcasts
    to the product's shape (``tr.addmm``, which PyTorch limits to matrices): a layer's ``x Wᵀ + b``
    or a cell's ``x_proj + h W_hhᵀ`` as one node, where a product and an addition would make two.

    With C = beta·I + alpha·mat1 op(mat2):  dL/dI = beta · dC (summed to I's shape), and the
    matrices' gradients are MatMul's for alpha · dC (``transpose_b`` as MatMul's)."""

    def read_inputs(self):  # the input is never read; each matrix only for the other's gradient
        _, need_1, need_2 = self.needs_input_grad
        return [i for i, needed in ((1, need_2), (2, need_1)) if needed]

    def forward(self, input, mat1, mat2, beta=1, alpha=1, transpose_b=False):  # noqa: A002 (PyTorch's name)
        if mat1.ndim < 2 or mat2.ndim != 2:
            raise ValueError(f"addmm: mat1 and mat2 must be matrices (2-D), got shapes {mat1.shape} and {mat2.shape}")
        if not input.dtype == mat1.dtype == mat2.dtype:
            raise TypeError(f"addmm: expected input, mat1 and mat2 of one dtype, got {input.dtype}, {mat1.dtype} "
                            f"and {mat2.dtype}")
        self.beta, self.alpha = beta, alpha
        out = super().forward(mat1, mat2, transpose_b=transpose_b)
        if not broadcasts_to(input.shape, out.shape):
            raise ValueError(f"addmm: input of shape {input.shape} does not broadcast to the product's shape "
                             f"{out.shape}")
        if alpha != 1:
            out *= alpha
        if beta == 0:  # as PyTorch: the input is ignored, NaN and infinity in it included
            return out
        out += input if beta == 1 else input * beta
        return out

    def backward(self, grad):
        input, mat1, mat2 = self.inputs  # noqa: A001
        need_input, need_1, need_2 = self.needs_input_grad
        grad_input = sum_to_shape(grad if self.beta == 1 else grad * self.beta, input.shape) if need_input else None
        scaled = grad if self.alpha == 1 else grad * self.alpha
        grad_1, grad_2 = self._backward_of_rows(scaled, mat1, mat2, need_1, need_2)
        return grad_input, grad_1, grad_2
