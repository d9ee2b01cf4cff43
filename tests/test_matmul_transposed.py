"""``MatMul`` with ``transpose_a``/``transpose_b`` (Linear's x Wᵀ, and every 2-D product's
backward, use them instead of transpose nodes): values, first and second derivatives, in all four
flag combinations and for a batch of rows times a matrix."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import ops


@pytest.mark.parametrize("transpose_a,transpose_b", list(itertools.product([False, True], repeat=2)))
def test_flags_give_the_product_and_its_derivatives(transpose_a, transpose_b):
    rng = np.random.default_rng(int(transpose_a) * 2 + int(transpose_b))
    a = rng.standard_normal((4, 3) if transpose_a else (3, 4))
    b = rng.standard_normal((5, 4) if transpose_b else (4, 5))
    expected = (a.T if transpose_a else a) @ (b.T if transpose_b else b)

    def product(x, y):
        return ops.MatMul.apply(x, y, transpose_a=transpose_a, transpose_b=transpose_b)

    result = product(tr.tensor(a), tr.tensor(b))
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12)
    inputs = [tr.tensor(a, requires_grad=True), tr.tensor(b, requires_grad=True)]
    assert tr.gradcheck(product, inputs)
    assert tr.gradgradcheck(product, inputs)


def test_rows_times_transposed_matrix():
    """A (T, N, I) batch of rows times Wᵀ (as nn.Linear over a sequence does), and its gradients."""
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4))

    def linear(x_, w_):
        return ops.MatMul.apply(x_, w_, transpose_b=True)

    np.testing.assert_allclose(linear(tr.tensor(x), tr.tensor(w)).numpy(), x @ w.T, rtol=1e-12)
    inputs = [tr.tensor(x, requires_grad=True), tr.tensor(w, requires_grad=True)]
    assert tr.gradcheck(linear, inputs)
    assert tr.gradgradcheck(linear, inputs)


def test_a_transposed_operand_must_be_a_matrix():
    with pytest.raises(ValueError, match="transposed operands must be 2-D"):
        ops.MatMul.apply(tr.randn(2, 3, 4), tr.randn(4, 5), transpose_a=True)
