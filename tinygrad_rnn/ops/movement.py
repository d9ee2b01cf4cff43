"""Ops that move values around without arithmetic: reshape, permute, expand,
indexing, concatenation, device copies, flip, repeat. Each backward moves the gradient back."""

from __future__ import annotations

from .. import backend
from ..autograd import Function
from .broadcast import reshape_to, sum_to_shape
from .indexing import index_add, index_read


class Reshape(Function):
    """Same values, new shape; the gradient is reshaped back."""

    returns_view = True
    saves_inputs = False
    saves_output = False

    def forward(self, x, shape):
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}"
            ) from None

    def backward(self, grad):
        return grad.reshape(self.inputs[0].shape)


class Permute(Function):
    """Reorder axes; the gradient is permuted by the inverse order."""

    returns_view = True
    saves_inputs = False
    saves_output = False

    def forward(self, x, dims):
        self.dims = dims
        return x.transpose(dims)

    def backward(self, grad):
        inverse = [0] * len(self.dims)
        for position, axis in enumerate(self.dims):
            inverse[axis] = position
        return grad.permute(*inverse)


class Expand(Function):
    """Broadcast to a larger shape (a view); the gradient is summed back."""

    returns_view = True
    saves_inputs = False
    saves_output = False

    def forward(self, x, shape):
        if x.shape == shape:  # a plain view: NumPy's broadcast_to would make it read-only
            return x[...]
        try:
            return self.xp.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: cannot expand a tensor of shape {x.shape} to {shape}") from None

    def backward(self, grad):
        return sum_to_shape(grad, self.inputs[0].shape)


class GetItem(Function):
    """``x[index]`` for an ``Index`` plan (``indexing.make_index``): ints, slices, None,
    Ellipsis, integer or boolean arrays, applied as PyTorch applies them.

    The backward is a scatter-add: an element picked twice (``x[[0, 0]]``)
    receives both gradients.
    """

    returns_view = True
    saves_inputs = False  # backward needs only the input's shape
    saves_output = False

    def forward(self, x, index):
        self.index = index
        self.returns_view = index.is_basic  # index arrays copy, as in PyTorch: no view then
        if index.is_basic:
            self.view_index = index  # a write into this view is a write into x[index] (autograd._mark_views)
        return index_read(x, index)

    def backward(self, grad):
        return ScatterAdd.apply(grad, index=self.index, shape=self.inputs[0].shape)


class ScatterAdd(Function):
    """Zeros of ``shape`` with ``values`` added at ``index`` (an ``Index``; repeats add up).

    The adjoint of ``GetItem``: its backward reads the gradient back at ``index``.
    """

    saves_inputs = False
    saves_output = False

    def forward(self, values, index, shape):
        self.index = index
        out = self.xp.zeros(shape, dtype=values.dtype)
        index_add(out, index, values)
        return out

    def backward(self, grad):
        return GetItem.apply(grad, index=self.index)


class Cat(Function):
    """Concatenate along ``axis``; each input gets its slice of the gradient."""

    saves_inputs = False
    saves_output = False

    def forward(self, *arrays, axis):
        self.axis = axis
        return self.xp.concatenate(arrays, axis=axis)

    def backward(self, grad):
        grads, start = [], 0
        lead = (slice(None),) * self.axis
        for tensor, needed in zip(self.inputs, self.needs_input_grad):
            stop = start + tensor.shape[self.axis]
            grads.append(grad[lead + (slice(start, stop),)] if needed else None)
            start = stop
        return tuple(grads)


class Stack(Function):
    """Join same-shaped arrays along a new ``axis``; each input's gradient is its slice of the
    output's gradient (``unbind``). One node, where unsqueezing each input and concatenating
    would make one more node per input (per time step, for a sequence's outputs)."""

    saves_inputs = False
    saves_output = False

    def forward(self, *arrays, axis):
        self.axis = axis
        return self.xp.stack(arrays, axis=axis)

    def backward(self, grad):
        pieces = Unbind.apply(grad, axis=self.axis)
        return tuple(piece if needed else None for piece, needed in zip(pieces, self.needs_input_grad))


class ToDevice(Function):
    """Copy to another device; the gradient is copied back."""

    saves_inputs = False
    saves_output = False

    def forward(self, x, device):
        return backend.to_device(x, device)

    def backward(self, grad):
        return grad.to(self.inputs[0].device)


class Clone(Function):
    """A copy with its own memory; the gradient passes through unchanged."""

    saves_inputs = False
    saves_output = False

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad


class Split(Function):
    """Cut along ``axis`` into pieces of the given ``sizes`` (several outputs, views).

    The backward concatenates the pieces' gradients (zeros for a piece that got none):
    one array the size of the input, however many pieces, where indexing each piece
    separately would build one full-size gradient per piece.
    """

    returns_view = True
    saves_inputs = False
    saves_output = False

    def forward(self, x, sizes, axis):
        self.sizes, self.axis = sizes, axis
        lead = (slice(None),) * axis
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        return tuple(x[lead + (slice(start, start + size),)] for start, size in zip(starts, sizes))

    def backward(self, *grads):
        x = self.inputs[0]
        pieces = []
        for size, grad in zip(self.sizes, grads):
            if grad is None:
                shape = x.shape[: self.axis] + (size,) + x.shape[self.axis + 1 :]
                grad = x.new_zeros(shape)
            pieces.append(grad)
        return Cat.apply(*pieces, axis=self.axis)


class Unbind(Function):
    """The slices along ``axis`` as separate tensors (``for x_t in x``: one per time step).

    The backward stacks the slices' gradients (zeros where none came), in one go.
    """

    returns_view = True
    saves_inputs = False
    saves_output = False

    def forward(self, x, axis):
        self.axis = axis
        lead = (slice(None),) * axis
        return tuple(x[lead + (i,)] for i in range(x.shape[axis]))

    def backward(self, *grads):
        x = self.inputs[0]
        slice_shape = x.shape[: self.axis] + x.shape[self.axis + 1 :]
        return Stack.apply(*(g if g is not None else x.new_zeros(slice_shape) for g in grads), axis=self.axis)


class Flip(Function):
    """Reverse the order of the elements along ``axes``. A copy, as in PyTorch (NumPy's ``flip`` is a
    view); the gradient is flipped back the same way."""

    saves_inputs = False
    saves_output = False

    def forward(self, x, axes):
        self.axes = axes
        return self.xp.flip(x, axis=axes).copy()

    def backward(self, grad):
        return Flip.apply(grad, axes=self.axes)


class Repeat(Function):
    """``x.repeat(*sizes)``: the tensor tiled ``sizes[d]`` times along each dimension d (a copy); when
    ``sizes`` is longer than the shape, the tensor first gets leading dimensions of size 1.

    Along dimension d the output position is t·n + i (tile t, element i of n), so seen as shape
    (r₀, n₀, r₁, n₁, ...) the output holds element (i₀, i₁, ...) at every tile index (t₀, t₁, ...).
    Each copy fed the output, so the gradient is the output gradient in that shape summed over
    the tile axes r₀, r₁, ...
    """

    saves_inputs = False
    saves_output = False

    def forward(self, x, sizes):
        self.sizes = sizes
        return self.xp.tile(x, sizes)

    def backward(self, grad):
        shape = self.inputs[0].shape
        padded = (1,) * (len(self.sizes) - len(shape)) + tuple(shape)
        tiles_and_sizes = tuple(n for pair in zip(self.sizes, padded) for n in pair)
        summed = grad.reshape(tiles_and_sizes).sum(tuple(range(0, len(tiles_and_sizes), 2)))
        return reshape_to(summed, shape)
