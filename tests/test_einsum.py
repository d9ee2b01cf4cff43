"""tr.einsum: the forms RNN and attention code uses, checked by hand, against finite differences and
against PyTorch (values and gradients), and its refusals."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr

# equation, operand shapes: matrix and batched products, dot products, transposes, sums, diagonals,
# outer products, '...' broadcasting, size-1 broadcasting, three operands, implicit outputs
CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]), ("bi,bi->b", [(4, 3), (4, 3)]),
    ("ij->ji", [(2, 3)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij", [(2, 3)]), ("ba", [(2, 3)]),
    ("ij,jk", [(2, 3), (3, 4)]), ("...ij,...jk", [(5, 2, 3), (3, 4)]), ("...ij,...jk", [(5, 2, 3), (1, 3, 4)]),
    ("i...->i", [(3, 2, 4)]), ("ij,jk->ik", [(2, 1), (3, 4)]), ("ij,ij->ij", [(2, 1), (2, 3)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]), ("ij,kj->ik", [(2, 1), (3, 4)]),
    ("bA,Ab", [(2, 3), (3, 2)]), ("i j,j->i", [(2, 3), (3,)]), ("ij,j->", [(2, 3), (3,)]), ("...,...", [(), (3,)]),
    ("", [()]), ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]), ("iij->ji", [(3, 3, 2)]),
    ("ijk,jil->kl", [(2, 3, 4), (3, 2, 5)]), ("a...b,b...c->...ac", [(2, 3, 4, 5), (5, 1, 4, 6)]),
    ("abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 6)]), ("iji->j", [(2, 3, 2)]), ("ij,jk->ik", [(2, 0), (0, 3)]),
]


def test_einsum_by_hand(each_device):
    a = tr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = tr.tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    assert tr.einsum("ij,jk->ik", a, b).tolist() == [[19.0, 22.0], [43.0, 50.0]]
    assert tr.einsum("ij->ji", a).tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert tr.einsum("ii->i", a).tolist() == [1.0, 4.0] and tr.einsum("ii", a).item() == 5.0
    assert tr.einsum("bi,bi->b", a, b).tolist() == [17.0, 53.0]
    assert tr.einsum("i,j->ij", a[0], b[0]).tolist() == [[5.0, 6.0], [10.0, 12.0]]
    out = tr.einsum("bi,bi->b", a, b)
    out.backward(tr.tensor([1.0, 2.0]))
    assert a.grad.tolist() == [[5.0, 6.0], [14.0, 16.0]] and b.grad.tolist() == [[1.0, 2.0], [6.0, 8.0]]
    a.grad = None
    tr.einsum("ii->i", a).sum().backward()
    assert a.grad.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_einsum_takes_a_list_of_operands_and_always_makes_a_new_tensor():
    a, b = tr.ones(2, 3), tr.ones(3, 4)
    assert tr.einsum("ij,jk", [a, b]).tolist() == [[3.0] * 4] * 2
    same = tr.einsum("ij->ij", a)
    assert same is not a and same.tolist() == a.tolist()


@pytest.mark.parametrize("equation, shapes", CASES, ids=[f"{e or 'empty'}:{s}" for e, s in CASES])
def test_einsum_matches_torch(equation, shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s) for s in shapes]
    ours, theirs = [tr.tensor(v, requires_grad=True) for v in arrays], [torch.tensor(v, requires_grad=True)
                                                                       for v in arrays]
    out, ref = tr.einsum(equation, *ours), torch.einsum(equation, *theirs)
    assert out.shape == tuple(ref.shape) and out.dtype == tr.float64
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    upstream = rng.normal(size=ref.shape)
    out.backward(tr.tensor(upstream))
    ref.backward(torch.tensor(upstream))
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("equation, shapes", [("ij,jk->ik", [(2, 3), (3, 2)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
                                              ("bi,bi->b", [(3, 2), (3, 2)]), ("ii->i", [(3, 3)]),
                                              ("...ij,jk", [(2, 2, 3), (3, 2)])])
def test_einsum_gradients_by_finite_differences(equation, shapes):
    rng = np.random.default_rng(3)
    inputs = [tr.tensor(rng.normal(size=s), requires_grad=True) for s in shapes]
    assert tr.gradcheck(lambda *xs: tr.einsum(equation, *xs), inputs)
    assert tr.gradgradcheck(lambda *xs: tr.einsum(equation, *xs), inputs)


def test_einsum_integers_and_float32():
    ints = tr.einsum("i,i", tr.tensor([1, 2]), tr.tensor([3, 4]))
    assert ints.dtype == tr.int64 and ints.item() == 11
    assert tr.einsum("ij,jk->ik", tr.ones(2, 3), tr.ones(3, 1)).dtype == tr.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda: tr.einsum("ij,jk->ik", tr.ones(2, 3)), ValueError, "names 2 operand"),
    (lambda: tr.einsum("ij", tr.ones(2, 3), tr.ones(3)), ValueError, "names 1 operand"),
    (lambda: tr.einsum("ijk,jk->ik", tr.ones(2, 3), tr.ones(3, 4)), ValueError, "operand 0 has 2 dimension"),
    (lambda: tr.einsum("ij,jk->ik", tr.ones(2, 3), tr.ones(4, 4)), ValueError, "subscript j has size 4"),
    (lambda: tr.einsum("ij,jk->iik", tr.ones(2, 3), tr.ones(3, 4)), ValueError, "appears more than once"),
    (lambda: tr.einsum("ij,jk->ix", tr.ones(2, 3), tr.ones(3, 4)), ValueError, "x does not appear"),
    (lambda: tr.einsum("i1,i", tr.ones(2, 3), tr.ones(2)), ValueError, "invalid subscript '1'"),
    (lambda: tr.einsum("i..j", tr.ones(2, 3)), ValueError, "one '...' per operand"),
    (lambda: tr.einsum("ij->i->j", tr.ones(2, 3)), ValueError, "at most one '->'"),
    (lambda: tr.einsum("ij", tr.ones(2, 3).numpy()), TypeError, "operand 0 must be a Tensor"),
    (lambda: tr.einsum(["ij"], tr.ones(2, 3)), TypeError, "equation must be a str"),
    (lambda: tr.einsum("ij"), ValueError, "at least one operand"),
    (lambda: tr.einsum("i,i", tr.ones(2), tr.ones(2, dtype=tr.float64)), TypeError, "one dtype"),
    (lambda: tr.einsum("ii->i", tr.ones(2, 3)), ValueError, "repeated for operand 0 but the sizes"),
])
def test_einsum_refusals_name_what_is_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()
