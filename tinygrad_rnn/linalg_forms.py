"""Matrix products as PyTorch's functions: ``tr.mm``, ``tr.bmm`` (with PyTorch's shape and dtype checks),
and ``tr.einsum``, Einstein summation, built from Tensor ops so its gradient comes for free.

``tr.einsum("bij,bjk->bik", a, b)`` names each dimension of each operand with a letter; a letter
shared by two operands pairs those dimensions up, a letter left out of the output (after ``->``)
is summed over. The steps, each an ordinary op:

1. a letter repeated within one operand (``"ii->i"``) takes the diagonal: advanced indexing;
2. a letter found in one operand only and not in the output is summed away at once: ``sum``;
3. operands are combined left to right, two at a time: letters shared and kept are the batch,
   letters shared and not kept are contracted, the rest are free. The two are permuted to
   (batch, free, contracted) and (batch, contracted, free), reshaped to three dimensions and
   multiplied with ``@`` (or, with nothing to contract, multiplied elementwise with broadcasting);
4. the result is permuted into the output's order.

As in PyTorch: ``...`` stands for any number of leading or middle dimensions (broadcast between
operands, as NumPy does); without ``->`` the output is the ``...`` dimensions, then the letters
seen exactly once, in alphabetical order (capitals first); a dimension of size 1 broadcasts
against the same letter's size in another operand; spaces are ignored; all operands must have
one dtype.
"""

from __future__ import annotations

import math
import string

from . import backend, ops
from .ops.broadcast import reshape_to
from .tensor import Tensor

_LETTERS = frozenset(string.ascii_letters)


# ---------------------------------------------------------------- mm and bmm
def _check_matrices(name: str, ndim: int, input, mat2) -> None:
    what = "a batch of matrices (3-D)" if ndim == 3 else "a matrix (2-D)"
    for argument, value in (("input", input), ("mat2", mat2)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}: {argument} must be a Tensor, got {type(value).__name__}")
        if value.ndim != ndim:
            raise ValueError(f"{name}: expected {argument} to be {what}, got shape {value.shape}")
    if ndim == 3 and input.shape[0] != mat2.shape[0]:
        raise ValueError(f"{name}: input and mat2 must have the same batch size (no broadcasting), got shapes "
                         f"{input.shape} and {mat2.shape}")
    if input.shape[-1] != mat2.shape[-2]:
        raise ValueError(f"{name}: input's columns ({input.shape[-1]}) must equal mat2's rows ({mat2.shape[-2]}), "
                         f"got shapes {input.shape} and {mat2.shape}")
    if input.dtype != mat2.dtype:
        raise TypeError(f"{name}: expected input and mat2 of the same dtype, got {input.dtype} and {mat2.dtype}")


def mm(input, mat2) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """The matrix product of two matrices, (n, k) @ (k, m) -> (n, m); no broadcasting and one dtype
    (use ``tr.matmul`` for 1-D, batched or broadcast products)."""
    _check_matrices("mm", 2, input, mat2)
    return input @ mat2


def bmm(input, mat2) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """Batched matrix product, (b, n, k) @ (b, k, m) -> (b, n, m): both 3-D with the same batch size
    (no broadcasting) and one dtype."""
    _check_matrices("bmm", 3, input, mat2)
    return input @ mat2


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:  # noqa: A002 (PyTorch's argument names)
    """``beta · input + alpha · (mat1 @ mat2)`` as one node: ``mat1`` (n, k) and ``mat2`` (k, m) matrices,
    ``input`` broadcast to (n, m) (a bias row, or a full matrix), all of one dtype. With beta = 0 the
    input is ignored (NaN in it included), as in PyTorch."""
    for argument, value in (("input", input), ("mat1", mat1), ("mat2", mat2)):
        if not isinstance(value, Tensor):
            raise TypeError(f"addmm: {argument} must be a Tensor, got {type(value).__name__}")
    for argument, value in (("beta", beta), ("alpha", alpha)):
        if not isinstance(value, int | float):
            raise TypeError(f"addmm: {argument} must be a Python number, got {type(value).__name__}")
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"addmm: mat1 and mat2 must be matrices (2-D), got shapes {mat1.shape} and {mat2.shape}")
    if mat1.shape[1] != mat2.shape[0]:
        raise ValueError(f"addmm: mat1's columns ({mat1.shape[1]}) must equal mat2's rows ({mat2.shape[0]}), got "
                         f"shapes {mat1.shape} and {mat2.shape}")
    return ops.AddMM.apply(input, mat1, mat2, beta=beta, alpha=alpha)


# ---------------------------------------------------------------- einsum
def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation: ``tr.einsum("ij,jk->ik", a, b)`` is ``a @ b``, ``"bij,bjk->bik"`` a batched
    product, ``"bi,bi->b"`` row-wise dot products, ``"ij->ji"`` a transpose, ``"ii->i"`` a diagonal,
    ``"...ij,...jk"`` a broadcast batched product. Operands may also be given as one list. Any number
    of operands; differentiable (made of reshape, permute, indexing, sum and matmul)."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a str such as 'ij,jk->ik', got {type(equation).__name__}")
    if not operands:
        raise ValueError("einsum: expected at least one operand after the equation")
    for position, operand in enumerate(operands):
        if not isinstance(operand, Tensor):
            raise TypeError(f"einsum: operand {position} must be a Tensor, got {type(operand).__name__}")
        if operand.dtype != operands[0].dtype:
            raise TypeError(f"einsum: all operands must have one dtype, got {operands[0].dtype} (operand 0) and "
                            f"{operand.dtype} (operand {position})")
    terms, output = _parse(equation, operands)
    pairs = [_diagonals(t, labels, i) for i, (t, labels) in enumerate(zip(operands, terms))]
    sizes = _sizes([labels for _, labels in pairs], [t for t, _ in pairs])
    counts: dict = {}
    for _, labels in pairs:
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
    pairs = [_sum_out(t, labels, lambda label: label in output or counts[label] > 1) for t, labels in pairs]
    tensor, labels = pairs[0]
    for position in range(1, len(pairs)):
        later = {label for _, rest in pairs[position + 1 :] for label in rest}
        tensor, labels = _combine(tensor, labels, *pairs[position], set(output) | later, sizes)
    tensor, labels = _sum_out(tensor, labels, lambda label: label in output)
    result = _permuted(tensor, labels, output)
    return result.reshape(result.shape) if result is operands[0] else result  # always a new tensor


def _parse(equation: str, operands) -> tuple:
    """The labels of each operand's dimensions and of the output's: letters, and for the dimensions
    of ``...`` ints (0 is the leftmost of the broadcast ``...``; an operand with fewer has the last ones)."""
    text = equation.replace(" ", "")
    lhs, arrow, rhs = text.partition("->")
    if "->" in rhs or ("-" in text and not arrow) or ">" in lhs:
        raise ValueError(f"einsum: expected at most one '->' in the equation, got {equation!r}")
    inputs = lhs.split(",")
    if len(inputs) != len(operands):
        more = "fewer" if len(operands) < len(inputs) else "more"
        raise ValueError(f"einsum: the equation {equation!r} names {len(inputs)} operand(s), but {len(operands)} "
                         f"were given ({more} operands than the equation specifies)")
    pieces = [_split_term(term, equation) for term in inputs]
    widths = []
    for position, ((letters, ellipsis), operand) in enumerate(zip(pieces, operands)):
        spare = operand.ndim - len(letters)
        if spare < 0 or (spare and ellipsis is None):
            raise ValueError(
                f"einsum: operand {position} has {operand.ndim} dimension(s) (shape {operand.shape}), but its "
                f"subscripts {inputs[position]!r} name {len(letters)}" + ("" if ellipsis is not None else
                                                                         " and it has no '...'"))
        widths.append(spare)
    width = max(widths)
    terms = []
    for (letters, ellipsis), spare in zip(pieces, widths):
        if ellipsis is None:
            terms.append(list(letters))
        else:
            terms.append(list(letters[:ellipsis]) + list(range(width - spare, width)) + list(letters[ellipsis:]))
    if arrow:
        letters, ellipsis = _split_term(rhs, equation)
        seen = {label for term in terms for label in term if isinstance(label, str)}
        for position, letter in enumerate(letters):
            if letter in letters[:position]:
                raise ValueError(f"einsum: output subscript {letter} appears more than once in the output "
                                 f"of {equation!r}")
            if letter not in seen:
                raise ValueError(f"einsum: output subscript {letter} does not appear in the equation for any "
                                 f"input operand ({equation!r})")
        dims = list(range(width)) if ellipsis is not None else []
        at = len(letters) if ellipsis is None else ellipsis
        output = list(letters[:at]) + dims + list(letters[at:])
    else:  # implicit: the ... dimensions, then the letters seen once, sorted (capitals first, as in ASCII)
        counts: dict = {}
        for term in terms:
            for label in term:
                if isinstance(label, str):
                    counts[label] = counts.get(label, 0) + 1
        output = list(range(width)) + sorted(label for label, n in counts.items() if n == 1)
    return terms, output


def _split_term(term: str, equation: str) -> tuple:
    """``("ij", None)`` for ``"ij"``, ``("ij", 1)`` for ``"i...j"`` (the position of ``...``)."""
    ellipsis = None
    if "." in term:
        before, found, after = term.partition("...")
        if not found or "." in before or "." in after:
            raise ValueError(f"einsum: '.' may appear only as one '...' per operand, got {term!r} in {equation!r}")
        ellipsis, term = len(before), before + after
    for char in term:
        if char not in _LETTERS:
            raise ValueError(f"einsum: invalid subscript {char!r} in {equation!r}: subscripts must be in [a-zA-Z]")
    return term, ellipsis


def _sizes(terms, operands) -> dict:
    """Each label's size, checked across operands (a size of 1 broadcasts)."""
    sizes: dict = {}
    for position, (labels, operand) in enumerate(zip(terms, operands)):
        for label, size in zip(labels, operand.shape):
            seen = sizes.get(label, 1)
            if size != seen and 1 not in (size, seen):
                name = f"subscript {label}" if isinstance(label, str) else "a dimension of '...'"
                raise ValueError(f"einsum: {name} has size {size} for operand {position}, "
                                 f"which does not broadcast with the size {seen} seen before")
            sizes[label] = seen if label in sizes and seen != 1 else size
    return sizes


def _diagonals(tensor: Tensor, labels: list, position: int) -> tuple:
    """A letter repeated within one operand (``"ii"``) takes the diagonal of those dimensions."""
    labels = list(labels)
    for label in dict.fromkeys(labels):
        places = [i for i, other in enumerate(labels) if other == label]
        if len(places) < 2:
            continue
        lengths = {tensor.shape[i] for i in places}
        if len(lengths) > 1:
            raise ValueError(f"einsum: subscript {label} is repeated for operand {position} but the sizes don't "
                             f"match: {[tensor.shape[i] for i in places]}")
        rest = [i for i in range(tensor.ndim) if i not in places]
        tensor = tensor.permute(*places, *rest)
        with backend.device_of_array_context(tensor.array):
            steps = Tensor._wrap(tensor.xp.arange(lengths.pop()))
        tensor = tensor[(steps,) * len(places)]  # the diagonal comes first, then the other dimensions
        labels = [label] + [labels[i] for i in rest]
    return tensor, labels


def _sum_out(tensor: Tensor, labels: list, keep) -> tuple:
    """Sum ``tensor`` over the dimensions whose label ``keep`` refuses."""
    dropped = tuple(i for i, label in enumerate(labels) if not keep(label))
    if not dropped:
        return tensor, labels
    return tensor.sum(dim=dropped), [label for label in labels if keep(label)]


def _permuted(tensor: Tensor, labels: list, order: list) -> Tensor:
    """``tensor`` with its dimensions in ``order`` (itself when they are already)."""
    if labels == order:
        return tensor
    return tensor.permute(*[labels.index(label) for label in order])


def _combine(a: Tensor, a_labels: list, b: Tensor, b_labels: list, keep: set, sizes: dict) -> tuple:
    """Two operands as one: shared kept labels are the batch, shared others are contracted (matmul)."""
    a, a_labels = _sum_out(a, a_labels, lambda label: label in keep or label in b_labels)
    b, b_labels = _sum_out(b, b_labels, lambda label: label in keep or label in a_labels)
    shared = [label for label in a_labels if label in b_labels]
    a, b = _broadcast(a, a_labels, shared, sizes), _broadcast(b, b_labels, shared, sizes)
    batch = [label for label in shared if label in keep]
    contracted = [label for label in shared if label not in keep]
    left = [label for label in a_labels if label not in b_labels]
    right = [label for label in b_labels if label not in a_labels]
    size = {label: n for labels, t in ((a_labels, a), (b_labels, b)) for label, n in zip(labels, t.shape)}
    shape = tuple(size[label] for label in batch + left + right)
    if not contracted:  # an elementwise product, broadcast: no matmul of 1 x 1 matrices
        a = reshape_to(_permuted(a, a_labels, batch + left), shape[: len(batch) + len(left)] + (1,) * len(right))
        b = _permuted(b, b_labels, batch + right)
        b = reshape_to(b, shape[: len(batch)] + (1,) * len(left) + shape[len(batch) + len(left) :])
        return a * b, batch + left + right
    n_batch, n_left, n_right, n_inner = (math.prod(size[label] for label in group)
                                         for group in (batch, left, right, contracted))
    front = (n_batch,) if batch else ()
    a = reshape_to(_permuted(a, a_labels, batch + left + contracted), front + (n_left, n_inner))
    b = reshape_to(_permuted(b, b_labels, batch + contracted + right), front + (n_inner, n_right))
    return reshape_to(a @ b, shape), batch + left + right


def _broadcast(tensor: Tensor, labels: list, shared: list, sizes: dict) -> Tensor:
    """Expand size-1 dimensions of shared labels to the label's size (``"ij,jk"`` with j of size 1 and 3)."""
    target = tuple(sizes[label] if label in shared and n == 1 else n for label, n in zip(labels, tensor.shape))
    return tensor if target == tensor.shape else tensor.expand(*target)
