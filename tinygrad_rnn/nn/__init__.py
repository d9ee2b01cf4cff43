"""Layer 4: modules and layers, PyTorch-shaped (``from tinygrad_rnn import nn``)."""

from ..unsupported import module_getattr as _module_getattr
from . import functional, init, utils
from .activations import ELU, GELU, LeakyReLU, SiLU
from .containers import ModuleDict, ParameterDict, ParameterList
from .layers import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    Linear,
    LogSoftmax,
    ModuleList,
    MSELoss,
    NLLLoss,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCELoss, HuberLoss, L1Loss, SmoothL1Loss
from .module import Module
from .parameter import Parameter
from .recurrent import GRU, LSTM, RNN
from .recurrent_cells import GRUCell, LSTMCell, RNNCell
from .transformer import (
    MultiheadAttention,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__getattr__ = _module_getattr(__name__)  # a missing PyTorch name says what to use instead (unsupported.py)
