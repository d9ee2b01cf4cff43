"""Ties in ``argmax``/``argmin``, ``max(dim)``/``min(dim)``, ``sort``/``argsort`` and ``topk``.

The rules, found against PyTorch 2.13 on CPU over many tie-heavy inputs (see each method's docstring):

- ``argmax``/``argmin``/``max(dim)``/``min(dim)``: the first extreme element of the slice, NaN winning
  (the first NaN); exactly PyTorch's. ``max(dim)``/``min(dim)`` send each value's whole gradient to
  that element, as PyTorch does (``amax`` splits it among ties).
- ``sort``/``argsort``: always stable, NaN largest. That is PyTorch's ``stable=True`` exactly, and its
  ``stable=False`` (libstdc++'s introsort) for slices of at most 16 elements and for slices without
  equal values; beyond 16 elements PyTorch may order tied elements otherwise.
- ``topk``: the first k of the stable order. PyTorch's (a heap when 64·k <= n, else nth_element) agrees
  in values, and in indices for slices without ties, for k = 1 when n >= 64, and for n <= 3.

The first half pins these rules on hand-written examples (no PyTorch needed); the second compares
with PyTorch over drawn tensors where the rules say we agree, and checks the documented leeway
(same values, PyTorch's indices pointing at equal values) where they say we may not.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr

NAN = float("nan")


# ---------------------------------------------------------------- the rules, without PyTorch
def test_argmax_and_argmin_take_the_first_extreme_and_nan_wins():
    x = tr.tensor([1.0, 3.0, 0.0, 3.0, 0.0])
    assert x.argmax().item() == 1 and x.argmin().item() == 2
    nan = tr.tensor([1.0, NAN, 3.0, NAN])
    assert nan.argmax().item() == 1 and nan.argmin().item() == 1
    m = tr.tensor([[2, 5, 5], [7, 7, 1], [0, 0, 0]])
    assert m.argmax(1).tolist() == [1, 0, 0] and m.argmin(1).tolist() == [0, 2, 0]
    assert m.argmax(0).tolist() == [1, 1, 0] and m.argmin(0).tolist() == [2, 2, 2]
    assert m.argmax().item() == 3 and m.argmin().item() == 6  # flattened: the first 7, the first 0


def test_max_and_min_with_dim_pick_the_first_extreme_and_give_it_the_whole_gradient():
    x = tr.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [NAN, 1.0, NAN, 5.0]], requires_grad=True)
    values, indices = x.max(1)
    assert indices.tolist() == [1, 0, 0]
    np.testing.assert_array_equal(values.numpy(), [3.0, 2.0, NAN])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]])

    x.grad = None
    values, indices = x.min(1, keepdim=True)
    assert indices.tolist() == [[3], [0], [0]] and values.shape == (3, 1)
    (values * tr.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 0, 1], [2, 0, 0, 0], [3, 0, 0, 0]])

    x.grad = None
    x.max(0).values.sum().backward()  # down the columns: the first NaN, the first of tied 3 vs 1, ...
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0, 0], [0, 0, 0, 0], [1, 0, 1, 1]])
    # the full reduction still splits among ties (PyTorch's rule for amax and max())
    y = tr.tensor([1.0, 4.0, 4.0], requires_grad=True)
    y.max().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0, 0.5, 0.5])


def test_min_with_dim_of_unsigned_and_bool_values():
    u = tr.tensor(np.array([[3, 0, 255, 0]], dtype=np.uint8))
    assert u.min(1).values.tolist() == [0] and u.min(1).indices.tolist() == [1]
    assert u.max(1).values.tolist() == [255] and u.max(1).indices.tolist() == [2]
    b = tr.tensor([[True, False, False]])
    assert b.min(1).values.tolist() == [False] and b.min(1).indices.tolist() == [1]


def test_max_of_a_scalar_with_dim():
    s = tr.tensor(4.0, requires_grad=True)
    values, indices = s.max(0)
    assert values.shape == () and indices.shape == () and values.item() == 4.0 and indices.item() == 0
    values.backward()
    assert s.grad.item() == 1.0


@pytest.mark.parametrize("stable", [False, True])
def test_sort_is_stable_in_both_directions_with_nan_largest(stable):
    x = tr.tensor([1.0, NAN, 0.0, 1.0, NAN, 0.0, 1.0])
    assert x.argsort(stable=stable).tolist() == [2, 5, 0, 3, 6, 1, 4]
    assert x.sort(descending=True, stable=stable).indices.tolist() == [1, 4, 0, 3, 6, 2, 5]
    # 17 and more elements: PyTorch's stable=False switches to introsort; ours stays stable
    long = tr.tensor([i % 2 for i in range(20)])
    assert long.argsort(stable=stable).tolist() == list(range(0, 20, 2)) + list(range(1, 20, 2))
    assert long.argsort(descending=True, stable=stable).tolist() == list(range(1, 20, 2)) + list(range(0, 20, 2))


def test_topk_keeps_the_earliest_of_tied_elements_first():
    x = tr.tensor([2.0, 2.0, 1.0, 2.0], requires_grad=True)
    for sorted_ in (True, False):
        values, indices = x.topk(2, sorted=sorted_)
        assert indices.tolist() == [0, 1] and values.tolist() == [2.0, 2.0]  # PyTorch: [1, 3]
    assert x.topk(2, largest=False).indices.tolist() == [2, 0]  # PyTorch: [2, 3]
    assert tr.tensor([0.0, NAN, 1.0, NAN]).topk(3).indices.tolist() == [1, 3, 2]
    x.topk(2).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1, 0, 0])


# ---------------------------------------------------------------- against PyTorch
DTYPES = [np.float32, np.float64, np.int64]


def draw(rng, shape, dtype, nan: bool):
    """Few distinct small integers (many ties), a tenth NaN when ``nan`` and the dtype is float."""
    x = rng.integers(0, int(rng.choice([2, 3, 6])), size=shape).astype(dtype)
    if nan and np.dtype(dtype).kind == "f":
        x[rng.random(shape) < 0.1] = np.nan
    return x


def cases(count: int, seed: int, long_rows: bool = True):
    """``count`` tie-heavy arrays: small shapes of 1 to 3 dims, and (when ``long_rows``) a few rows of
    100 to 2000, where PyTorch's kernels take other paths."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        dtype = DTYPES[i % len(DTYPES)]
        if long_rows and i % 8 == 7:
            shape = (int(rng.integers(1, 3)), int(rng.choice([100, 500, 2000])))
        else:
            shape = tuple(int(n) for n in rng.integers(1, 8, size=int(rng.integers(1, 4))))
        out.append(draw(rng, shape, dtype, nan=i % 2 == 0))
    return out


def has_ties(row: np.ndarray) -> bool:
    """Whether two elements of ``row`` compare equal for sorting (NaNs all alike, 0.0 == -0.0)."""
    finite = row[~np.isnan(row)] if row.dtype.kind == "f" else row
    return len(np.unique(finite)) < len(finite) or len(row) - len(finite) > 1


def test_argmax_argmin_max_min_match_pytorch():
    torch = pytest.importorskip("torch")
    for x in cases(64, seed=0):
        ours, theirs = tr.tensor(x), torch.tensor(x)
        for dim in [None, *range(-x.ndim, x.ndim)]:
            for keepdim in (False, True):
                for name in ("argmax", "argmin"):
                    want = getattr(theirs, name)(dim=dim, keepdim=keepdim).numpy()
                    got = getattr(ours, name)(dim, keepdim).numpy()
                    assert got.shape == want.shape and np.array_equal(got, want), (name, x, dim, keepdim)
                if dim is None:
                    continue
                for name in ("max", "min"):
                    want = getattr(theirs, name)(dim=dim, keepdim=keepdim)
                    got = getattr(ours, name)(dim, keepdim)
                    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
                    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())


def test_max_and_min_gradients_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for x in cases(16, seed=2, long_rows=False):
        x = x.astype(np.float64)
        dim = int(rng.integers(-x.ndim, x.ndim))
        for name in ("max", "min"):
            ours, theirs = tr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            upstream = rng.standard_normal(getattr(theirs, name)(dim=dim).values.shape)
            getattr(ours, name)(dim).values.backward(tr.tensor(upstream))
            getattr(theirs, name)(dim=dim).values.backward(torch.tensor(upstream))
            np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_sort_matches_pytorch_where_its_order_is_a_rule():
    torch = pytest.importorskip("torch")
    differed = 0
    for x in cases(80, seed=3):
        for dim in range(-x.ndim, x.ndim):
            for descending in (False, True):
                ours = tr.tensor(x).sort(dim, descending=descending)
                stable = torch.tensor(x).sort(dim=dim, descending=descending, stable=True)
                np.testing.assert_array_equal(ours.indices.numpy(), stable.indices.numpy())
                np.testing.assert_array_equal(ours.values.numpy(), stable.values.numpy())
                assert tr.tensor(x).argsort(dim, descending=descending, stable=True).tolist() == stable.indices.tolist()

                default = torch.tensor(x).sort(dim=dim, descending=descending)  # stable=False
                np.testing.assert_array_equal(ours.values.numpy(), default.values.numpy())
                rows_ours = np.moveaxis(ours.indices.numpy(), dim, -1).reshape(-1, x.shape[dim])
                rows_theirs = np.moveaxis(default.indices.numpy(), dim, -1).reshape(-1, x.shape[dim])
                for row, a, b in zip(np.moveaxis(x, dim, -1).reshape(-1, x.shape[dim]), rows_ours, rows_theirs):
                    if len(row) <= 16 or not has_ties(row):
                        np.testing.assert_array_equal(a, b)
                    else:
                        differed += not np.array_equal(a, b)
    assert differed  # the documented difference is real: PyTorch's introsort reorders ties beyond 16


def test_sort_matches_pytorchs_radix_sort_of_long_integer_vectors():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).integers(0, 3, size=40_000)
    np.testing.assert_array_equal(tr.tensor(x).argsort().numpy(), torch.tensor(x).argsort().numpy())


def test_topk_matches_pytorch_where_its_order_is_a_rule():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    agreed = differed = 0
    for x in cases(120, seed=6):
        dim = int(rng.integers(-x.ndim, x.ndim))
        n = x.shape[dim]
        k = int(rng.integers(0, n + 1)) if rng.random() < 0.6 else min(n, int(rng.integers(1, 4)))
        rows = np.moveaxis(x, dim, -1).reshape(-1, n)
        for largest in (True, False):
            for sorted_ in (True, False):
                ours = tr.tensor(x).topk(k, dim, largest=largest, sorted=sorted_)
                theirs = torch.tensor(x).topk(k, dim=dim, largest=largest, sorted=sorted_)
                first_k = torch.tensor(x).sort(dim=dim, descending=largest, stable=True).indices.narrow(dim, 0, k)
                np.testing.assert_array_equal(ours.indices.numpy(), first_k.numpy())  # our rule
                np.testing.assert_array_equal(ours.values.numpy(), np.take_along_axis(x, first_k.numpy(), dim))
                ordered = sorted_ or 64 * k <= n
                if ordered:
                    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
                # PyTorch's indices always point at the values it returns
                np.testing.assert_array_equal(np.take_along_axis(x, theirs.indices.numpy(), dim), theirs.values.numpy())
                if k == 0:
                    continue
                a_rows = np.moveaxis(ours.indices.numpy(), dim, -1).reshape(-1, k)
                b_rows = np.moveaxis(theirs.indices.numpy(), dim, -1).reshape(-1, k)
                for row, a, b in zip(rows, a_rows, b_rows):
                    if n <= 3 or (k == 1 and n >= 64) or (ordered and not has_ties(row)):
                        np.testing.assert_array_equal(a, b, err_msg=f"{row} k={k} largest={largest}")
                        agreed += 1
                    else:
                        differed += not np.array_equal(a, b)
    assert agreed and differed  # both regimes drawn, and the documented difference is real


def test_amin_and_min_of_unsigned_and_bool_do_not_wrap_around():
    """min x = -max(-x) wraps for uint8 and bool; those are reduced directly (PyTorch's values)."""
    x = tr.tensor(np.array([[0, 1, 2], [5, 3, 4]], dtype=np.uint8))
    assert x.min().item() == 0 and x.amin().item() == 0
    np.testing.assert_array_equal(x.amin(1).numpy(), [0, 3])
    np.testing.assert_array_equal(x.amin(0, keepdim=True).numpy(), [[0, 1, 2]])
    assert tr.tensor([True, False]).min().item() is False
