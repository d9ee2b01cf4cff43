"""tr.multinomial: shapes, dtypes, the seeded generator, the distribution with and without replacement
(against exact probabilities worked out by hand), and PyTorch's refusals."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr


def test_shapes_dtype_device_and_no_graph(each_device):
    probs = tr.tensor([[0.2, 0.8, 0.0], [1.0, 1.0, 1.0]], requires_grad=True)
    draws = tr.multinomial(probs, 2)
    assert draws.shape == (2, 2) and draws.dtype == tr.int64 and draws.device == each_device
    assert draws.grad_fn is None and not draws.requires_grad
    assert tr.multinomial(probs[0], 5, replacement=True).shape == (5,)
    rows = draws.numpy()
    assert sorted(rows[0].tolist()) == [0, 1]  # without replacement: both nonzero categories, once each
    assert len(set(rows[1].tolist())) == 2


def test_the_seed_repeats_the_draws():
    probs = tr.tensor([0.1, 0.2, 0.3, 0.4])
    tr.manual_seed(7)
    first = tr.multinomial(probs, 10, replacement=True).tolist()
    tr.manual_seed(7)
    assert tr.multinomial(probs, 10, replacement=True).tolist() == first
    generator = np.random.default_rng(3)
    again = np.random.default_rng(3)
    assert tr.multinomial(probs, 3, generator=generator).tolist() == tr.multinomial(probs, 3, generator=again).tolist()


def test_with_replacement_follows_the_probabilities():
    weights = tr.tensor([[1.0, 0.0, 6.0, 3.0], [2.0, 2.0, 0.0, 4.0]])  # need not sum to 1
    draws = tr.multinomial(weights, 40_000, replacement=True).numpy()
    for row, expected in zip(draws, ([0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.0, 0.5])):
        frequencies = np.bincount(row, minlength=4) / row.size
        np.testing.assert_allclose(frequencies, expected, atol=0.01)  # 4 standard errors or so
        assert frequencies[np.array(expected) == 0].sum() == 0  # a zero weight is never drawn


def test_without_replacement_is_successive_sampling():
    # P(first i, then j) = w_i / W * w_j / (W - w_i), as drawing one at a time and renormalising
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    draws = tr.multinomial(tr.tensor(np.tile(weights, (30_000, 1))), 2).numpy()
    assert (draws[:, 0] != draws[:, 1]).all()
    counts = np.zeros((4, 4))
    np.add.at(counts, (draws[:, 0], draws[:, 1]), 1)
    total = weights.sum()
    expected = np.array([[0.0 if i == j else weights[i] / total * weights[j] / (total - weights[i])
                          for j in range(4)] for i in range(4)])
    np.testing.assert_allclose(counts / len(draws), expected, atol=0.01)


def test_all_categories_without_replacement_is_a_permutation():
    draws = tr.multinomial(tr.tensor([[0.5, 0.1, 0.2, 0.2]] * 50), 4).numpy()
    assert (np.sort(draws, axis=1) == np.arange(4)).all()


def test_matches_torch_shapes_and_dtypes():
    torch = pytest.importorskip("torch")
    for shape, n, replacement in (((4,), 3, False), ((2, 5), 7, True), ((3, 3), 3, False)):
        ours = tr.multinomial(tr.ones(*shape), n, replacement=replacement)
        theirs = torch.multinomial(torch.ones(*shape), n, replacement=replacement)
        assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")


@pytest.mark.parametrize("call, error, message", [
    (lambda: tr.multinomial(tr.tensor([[0.0, 0.0]]), 1, True), ValueError, "sums to 0"),
    (lambda: tr.multinomial(tr.tensor([1.0, -1.0]), 1), ValueError, "inf, NaN or a negative"),
    (lambda: tr.multinomial(tr.tensor([1.0, np.nan]), 1), ValueError, "inf, NaN or a negative"),
    (lambda: tr.multinomial(tr.tensor([1.0, 0.0]), 2), ValueError, "at least 2 nonzero"),
    (lambda: tr.multinomial(tr.tensor([1.0, 1.0]), 3), ValueError, "cannot draw 3 samples without replacement"),
    (lambda: tr.multinomial(tr.tensor([1.0, 1.0]), 0), ValueError, "num_samples must be a positive int"),
    (lambda: tr.multinomial(tr.tensor([1.0, 1.0]), 1.0), ValueError, "num_samples must be a positive int"),
    (lambda: tr.multinomial(tr.ones(2, 2, 2), 1), ValueError, "1-D or 2-D"),
    (lambda: tr.multinomial(tr.tensor([1, 2]), 1), TypeError, "floating-point"),
    (lambda: tr.multinomial([0.5, 0.5], 1), TypeError, "input must be a Tensor"),
    (lambda: tr.multinomial(tr.ones(2), 1, generator=3), TypeError, "generator must be None or a NumPy"),
])
def test_refusals(call, error, message):
    with pytest.raises(error, match=message):
        call()
