"""``torch.nn.utils``: gradient clipping (``clip_grad.py``), parameters as one vector
(``convert_parameters.py``) and variable-length sequences (``rnn.py``: ``nn.utils.rnn.pad_sequence``,
``pack_padded_sequence``, ``PackedSequence``, ...). The PyTorch names missing here (``weight_norm``,
``spectral_norm``, ``prune``, ...) are listed in ``unsupported.py``, with what to use instead."""

from ...unsupported import module_getattr as _module_getattr
from . import convert_parameters, rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters

__getattr__ = _module_getattr(__name__)  # a missing PyTorch name says what to use instead (unsupported.py)
