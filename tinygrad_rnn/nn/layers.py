"""Feed-forward layers (Linear, Embedding, Dropout, LayerNorm, Identity, Flatten), with PyTorch's
parameter names, shapes and default initialisation. Activations, losses and containers have
files of their own; their names stay importable from here."""

from __future__ import annotations

import math

from .. import creation
from ..autograd import no_grad
from ..tensor import Tensor, where
from . import functional as F
from . import init
from .activations import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .parameter import Parameter

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Dropout", "ELU", "Embedding", "Flatten", "GELU", "Identity",
    "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "ModuleDict", "ModuleList", "NLLLoss",
    "ParameterDict", "ParameterList", "ReLU", "Sequential", "Sigmoid", "SiLU", "Softmax", "Tanh",
]


def _empty(shape, dtype, device) -> Parameter:
    """A parameter of ``shape`` (zeros until an init fills it), float32 unless asked."""
    return Parameter(creation.zeros(*shape, dtype=dtype, device=device))


class Linear(Module):
    """y = x Wᵀ + b with ``weight`` (out_features, in_features) and ``bias`` (out_features,),
    both initialised U(-1/√in, 1/√in) as in PyTorch."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty((out_features, in_features), dtype, device)
        self.register_parameter("bias", _empty((out_features,), dtype, device) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform(a=√5) on the weight, which is U(±1/√in)."""
        bound = 1 / math.sqrt(self.in_features) if self.in_features else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):  # noqa: A002
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """A lookup table: out[...] = weight[indices[...]], ``weight`` (num_embeddings, embedding_dim) ~ N(0, 1).

    With ``padding_idx`` p that row starts at zeros and never gets a gradient (dL/dweight[p] = 0, as in
    PyTorch), so it stays what it is. ``_weight``/``_freeze`` are PyTorch's private arguments behind
    ``from_pretrained``: a given table is used as it is (not initialised, no random numbers drawn).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 device=None, dtype=None, *, _weight: Tensor | None = None, _freeze: bool = False):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must lie in [-{num_embeddings}, {num_embeddings}), "
                                 f"got {padding_idx}")
            padding_idx %= num_embeddings  # -1 means the last row, as in PyTorch
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        if _weight is None:
            self.weight = _empty((num_embeddings, embedding_dim), dtype, device)
            self.weight.requires_grad_(not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({num_embeddings}, {embedding_dim}), "
                                 f"got {tuple(_weight.shape)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)  # shares _weight's memory, as in PyTorch

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None) -> Embedding:
        """An Embedding whose table is ``embeddings`` (num_embeddings, embedding_dim), used as it is: it
        shares its memory and keeps its dtype and device, and with ``freeze`` (the default) it is not
        trained (``weight.requires_grad`` is False). A ``padding_idx`` row keeps its values (it is not
        zeroed) but gets no gradient, as in PyTorch."""
        if not isinstance(embeddings, Tensor):
            raise TypeError(f"Embedding.from_pretrained: embeddings must be a Tensor, got {type(embeddings).__name__}")
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-dimensional (num_embeddings, "
                             f"embedding_dim), got shape {embeddings.shape}")
        rows, columns = embeddings.shape
        return cls(rows, columns, padding_idx, _weight=embeddings, _freeze=freeze)

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1), with the padding row (if any) zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input):  # noqa: A002
        if input.dtype.kind in "iu" and input.numel() and (
            int(input.array.min()) < 0 or int(input.array.max()) >= self.num_embeddings
        ):
            raise IndexError(
                f"Embedding: indices must lie in [0, {self.num_embeddings}), got values from "
                f"{int(input.array.min())} to {int(input.array.max())}"
            )
        out = F.embedding(input, self.weight)
        if self.padding_idx is not None:  # the padding row gets no gradient, as in PyTorch
            out = where((input != self.padding_idx).unsqueeze(-1), out, out.detach())
        return out

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"


class Dropout(Module):
    """Zero each element with probability ``p`` while training (scaling the rest by 1/(1-p))."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = p

    def forward(self, input):  # noqa: A002
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class LayerNorm(Module):
    """Normalise over the last dims to mean 0, variance 1, then scale by ``weight`` (ones)
    and shift by ``bias`` (zeros)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        weight = Parameter(creation.ones(*self.normalized_shape, dtype=dtype, device=device))
        self.register_parameter("weight", weight if elementwise_affine else None)
        has_bias = elementwise_affine and bias
        self.register_parameter("bias", _empty(self.normalized_shape, dtype, device) if has_bias else None)

    def forward(self, input):  # noqa: A002
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"


class Identity(Module):
    """Returns its input unchanged."""

    def forward(self, input):  # noqa: A002
        return input


class Flatten(Module):
    """Merge dims ``start_dim`` .. ``end_dim`` (by default all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):  # noqa: A002
        return input.flatten(self.start_dim, self.end_dim)
