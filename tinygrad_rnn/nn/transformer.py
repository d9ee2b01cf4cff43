"""PyTorch's attention and Transformer layers, which this recurrent framework does not provide.

The names exist so that code ported from PyTorch fails at once with an explanation, rather than
with an ``AttributeError`` (``nn.Transformer``) or, for a subclass, somewhere far from the cause:
making one (``nn.TransformerEncoderLayer(512, 8)``) and defining a subclass of one
(``class Block(nn.TransformerEncoderLayer): ...``) both raise ``NotImplementedError`` saying what
to use instead.
"""

from __future__ import annotations

from .module import Module

_INSTEAD = (
    "tinygrad_rnn is a framework for recurrent networks and has no attention or Transformer layers. "
    "For sequence models use nn.LSTM or nn.GRU (bidirectional=True for an encoder that sees the whole "
    "sequence, stacked with num_layers), nn.Embedding for tokens and nn.Linear heads; for attention, "
    "use PyTorch (torch.nn.{name})."
)


def _refusal(name: str) -> str:
    return f"nn.{name} is not provided: " + _INSTEAD.format(name=name)


def _not_provided(name: str, summary: str) -> type:
    """A Module class named ``name`` that cannot be made or subclassed."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(_refusal(name))

    def __init_subclass__(cls, **kwargs):
        raise NotImplementedError(f"cannot subclass nn.{name} ({cls.__name__}): " + _refusal(name))

    doc = f"PyTorch's nn.{name}, {summary}: not provided here; making one or subclassing it raises NotImplementedError."
    namespace = {"__init__": __init__, "__init_subclass__": classmethod(__init_subclass__), "__doc__": doc,
                 "__module__": __name__, "__qualname__": name}
    return type(name, (Module,), namespace)


Transformer = _not_provided("Transformer", "the encoder-decoder Transformer (Vaswani et al. 2017)")
TransformerEncoder = _not_provided("TransformerEncoder", "a stack of N TransformerEncoderLayers")
TransformerEncoderLayer = _not_provided(
    "TransformerEncoderLayer", "x + SelfAttention(x), then x + FeedForward(x), each with a LayerNorm")
TransformerDecoder = _not_provided("TransformerDecoder", "a stack of N TransformerDecoderLayers")
TransformerDecoderLayer = _not_provided(
    "TransformerDecoderLayer", "self-attention, attention over the encoder's memory, then a feed-forward block")
MultiheadAttention = _not_provided(
    "MultiheadAttention", "softmax(QKᵀ/√d)·V in h heads, concatenated and projected by W_O")
