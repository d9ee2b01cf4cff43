"""``torch.nn.utils``: gradient clipping (``clip_grad.py``) and variable-length sequences (``rnn.py``:
``nn.utils.rnn.pad_sequence``, ``pack_padded_sequence``, ``PackedSequence``, ...)."""

from . import rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_
