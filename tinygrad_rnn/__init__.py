"""tinygrad_rnn: a small, readable deep-learning framework with reverse-mode autograd
on NumPy (CPU) or CuPy (CUDA GPU), PyTorch-shaped.

    import tinygrad_rnn as tr
    x = tr.randn(3, 4, requires_grad=True)
    y = (x @ x.T).tanh().sum()
    y.backward()
    x.grad
"""

from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import (
    bool_,
    float16,
    float32,
    float64,
    get_default_device,
    int8,
    int16,
    int32,
    int64,
    manual_seed,
    set_default_device,
    uint8,
)
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .devices import device
from .dtypes import finfo, get_default_dtype, iinfo, set_default_dtype
from .functional_forms import (  # tr.max(a, b) and tr.min(a, b) are elementwise, as in PyTorch
    add,
    addcdiv,
    addcmul,
    allclose,
    diag,
    div,
    equal,
    is_tensor,
    max,
    min,
    mul,
    neg,
    pow,
    remainder,
    sub,
    tril,
    triu,
)
from .grad_mode import inference_mode
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .legacy_tensors import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from .linalg_forms import addmm, bmm, einsum, mm
from .ops.registry import REGISTRY as _REGISTRY
from .random import Generator, get_rng_state, set_rng_state
from .sampling import multinomial
from .serialization import load, save
from .tensor import Tensor, cat, one_hot, stack, where
from .threads import get_num_threads, set_num_threads

bool = bool_  # noqa: A001 (``tr.bool`` as in PyTorch; the builtin is not used below)
float = float32  # noqa: A001
double = float64
long = int64
half = float16
concat = concatenate = cat  # PyTorch's other names of cat


def _function_of(name: str):
    """``tr.name(x, ...)`` for the Tensor method ``x.name(...)``, with its docstring."""
    method = getattr(Tensor, name)

    def function(input, *args, **kwargs):  # noqa: A002 (PyTorch's argument name)
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor as the first argument, got {type(input).__name__}")
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = method.__doc__
    return function


# The Tensor methods that are also ``tr.`` functions: the ops registered with ``function=True``
# (``exp``, ``tanh``, ...: see ops/registry.py), and these, whose methods are written out.
_METHODS_AS_FUNCTIONS = sorted(
    [name for name, entry in _REGISTRY.items() if entry.function]
    + "amax amin argmax argmin broadcast_to chunk clamp clip dropout flatten log_softmax logsumexp matmul "
    "maximum mean minimum numel permute reshape softmax split squeeze std sum transpose unbind unsqueeze "
    "var".split()
    + "all any argsort cumsum eq flip floor_divide gather ge gt index_select isfinite isnan le logical_and "
    "logical_not logical_or logical_xor lt masked_fill narrow ne norm prod sort t topk".split()
    + "clamp_max clamp_min repeat_interleave".split()
)
for _name in _METHODS_AS_FUNCTIONS:
    globals()[_name] = _function_of(_name)
del _name

from . import cuda, data, graph, nn, optim, training, utils  # noqa: E402 (layers 4 and 5, nn and optimizers, build on everything above)
from .unsupported import module_getattr as _module_getattr  # noqa: E402

__version__ = "0.1.0"

__getattr__ = _module_getattr(__name__)  # a missing PyTorch name says what to use instead (unsupported.py)

# TINYGRAD_RNN_TRACE=1 in the environment: trace every op and backward node of the script to stderr.
graph.trace_from_environment()
