"""PyTorch names that tinygrad_rnn lacks fail where they are touched, saying what to use (issue 11).

``tinygrad_rnn/unsupported.py`` lists them with their advice; the modules' ``__getattr__`` (PEP 562) and
``Tensor.__getattr__`` raise ``AttributeError("<qualified name> is not supported by tinygrad_rnn:
<advice>")`` for a listed name and Python's usual ``AttributeError`` for any other. These tests keep the
table honest (every listed name is absent here and present in PyTorch) and check that the lookups which
must not change (``hasattr``, ``getattr`` with a default, dunder probing by ``copy``, ``pickle`` and
NumPy, a property's own error) behave as before.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import pickle

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import unsupported
from tinygrad_rnn.tensor import _UnsupportedMethod
from tinygrad_rnn.unsupported import UNSUPPORTED

TENSOR = "tinygrad_rnn.Tensor"
MODULE = "tinygrad_rnn.nn.Module"
CLASSES = {TENSOR: tr.Tensor, MODULE: tr.nn.Module}  # the namespaces that are classes, looked up on instances
MODULES = [namespace for namespace in UNSUPPORTED if namespace not in CLASSES]
LISTED = [(namespace, name) for namespace, table in UNSUPPORTED.items() for name in sorted(table)]


def _holder(namespace: str):
    """What a user touches for ``namespace``: the module itself, a tensor, or a model."""
    if namespace == TENSOR:
        return tr.zeros(2, 3)
    if namespace == MODULE:
        return tr.nn.Sequential(tr.nn.Linear(2, 3), tr.nn.Tanh())
    return importlib.import_module(namespace)


def test_the_table_covers_the_namespaces_that_look_it_up():
    assert set(UNSUPPORTED) == {
        "tinygrad_rnn", TENSOR, "tinygrad_rnn.nn", "tinygrad_rnn.nn.functional", "tinygrad_rnn.optim",
        "tinygrad_rnn.optim.lr_scheduler", "tinygrad_rnn.cuda", MODULE, "tinygrad_rnn.nn.utils",
        "tinygrad_rnn.nn.init", "tinygrad_rnn.utils.data"}
    assert set(CLASSES) == set(unsupported.CLASSES)
    for namespace in MODULES:
        lookup = vars(importlib.import_module(namespace))["__getattr__"]
        assert lookup.__module__ == namespace and lookup.__qualname__ == "__getattr__"
    assert "__getattr__" in vars(tr.nn.Module)
    # Tensor: a raising class attribute per listed name, no __getattr__ (it would slow every lookup)
    assert not any("__getattr__" in vars(klass) for klass in tr.Tensor.__mro__[:-1])
    assert all(isinstance(vars(tr.Tensor)[name], _UnsupportedMethod) for name in UNSUPPORTED[TENSOR])
    assert len(LISTED) > 440


@pytest.mark.parametrize("namespace, name", LISTED)
def test_a_listed_name_is_absent_and_raises_its_advice(namespace, name):
    advice = UNSUPPORTED[namespace][name]
    assert advice and "\n" not in advice and advice == advice.strip()
    if namespace in CLASSES:
        real = [klass for klass in CLASSES[namespace].__mro__
                if name in vars(klass) and not isinstance(vars(klass)[name], _UnsupportedMethod)]
        assert not real, f"{namespace}.{name} exists"
    else:
        module = importlib.import_module(namespace)
        assert name not in vars(module), f"{namespace}.{name} exists: take it out of unsupported.py"
        if hasattr(module, "__path__"):  # a package: no submodule of that name either
            assert importlib.util.find_spec(f"{namespace}.{name}") is None
    holder = _holder(namespace)
    with pytest.raises(AttributeError) as raised:
        getattr(holder, name)
    assert str(raised.value) == f"{namespace}.{name} is not supported by tinygrad_rnn: {advice}"
    assert raised.value.name == name
    assert not hasattr(holder, name)
    assert getattr(holder, name, "default") == "default"


def test_a_parameter_gets_the_tensor_advice_too():
    parameter = tr.nn.Parameter(tr.zeros(3))
    with pytest.raises(AttributeError, match=r"^tinygrad_rnn\.Tensor\.scatter_add_ is not supported .*one_hot"):
        parameter.scatter_add_(0, tr.tensor([0]), tr.ones(1))
    with pytest.raises(AttributeError, match=r"^'Parameter' object has no attribute 'no_such_method'$"):
        parameter.no_such_method  # noqa: B018


def test_every_listed_name_exists_in_pytorch():
    """The table names PyTorch's own names: a misspelt entry would never be reached."""
    torch = pytest.importorskip("torch")
    if tuple(int(part) for part in torch.__version__.split(".")[:2]) < (2, 4):
        pytest.skip("the table names PyTorch 2.4's API (nn.RMSNorm, F.rms_norm, ...)")
    counterparts = {"tinygrad_rnn": torch, TENSOR: torch.Tensor, "tinygrad_rnn.nn": torch.nn,
                    "tinygrad_rnn.nn.functional": torch.nn.functional, "tinygrad_rnn.optim": torch.optim,
                    "tinygrad_rnn.optim.lr_scheduler": torch.optim.lr_scheduler, "tinygrad_rnn.cuda": torch.cuda,
                    MODULE: torch.nn.Module, "tinygrad_rnn.nn.utils": torch.nn.utils,
                    "tinygrad_rnn.nn.init": torch.nn.init, "tinygrad_rnn.utils.data": torch.utils.data}
    assert set(counterparts) == set(UNSUPPORTED)

    def in_pytorch(namespace, name):
        """An attribute, or a submodule that ``import`` loads (``torch.nn.utils.prune`` is not imported
        with ``torch``)."""
        holder = counterparts[namespace]
        if hasattr(holder, name):
            return True
        return hasattr(holder, "__path__") and importlib.util.find_spec(f"{holder.__name__}.{name}") is not None

    not_pytorch = [f"{namespace}.{name}" for namespace, name in LISTED if not in_pytorch(namespace, name)]
    assert not not_pytorch


@pytest.mark.parametrize("namespace", MODULES)
@pytest.mark.parametrize("name", ["no_such_name", "Conv9d", "_private", "__no_such_dunder__"])
def test_an_unlisted_module_name_gets_pythons_own_error(namespace, name):
    module = importlib.import_module(namespace)
    with pytest.raises(AttributeError) as raised:
        getattr(module, name)
    assert str(raised.value) == f"module {namespace!r} has no attribute {name!r}"
    assert raised.value.name == name and raised.value.obj is module
    assert not hasattr(module, name)


@pytest.mark.parametrize("name", ["no_such_method", "__deepcopy__", "__array_interface__", "__getnewargs_ex__",
                                  "_ipython_display_", "_repr_html_", "__no_such_dunder__"])
def test_an_unlisted_tensor_name_gets_pythons_own_error(name):
    x = tr.zeros(2)
    with pytest.raises(AttributeError) as raised:
        getattr(x, name)
    assert str(raised.value) == f"'Tensor' object has no attribute {name!r}"
    assert raised.value.name == name and raised.value.obj is x
    assert not hasattr(x, name) and getattr(x, name, None) is None


@pytest.mark.parametrize("name", ["no_such_method", "__deepcopy__", "__setstate__", "_ipython_display_",
                                  "__no_such_dunder__"])
def test_an_unlisted_module_attribute_gets_pythons_own_error(name):
    model = tr.nn.LSTM(2, 3)
    with pytest.raises(AttributeError) as raised:
        getattr(model, name)
    assert str(raised.value) == f"'LSTM' object has no attribute {name!r}"
    assert raised.value.name == name and raised.value.obj is model
    assert not hasattr(model, name) and getattr(model, name, None) is None


def test_a_model_keeps_its_attributes_and_still_copies_and_pickles():
    """Parameters, buffers and submodules are instance attributes: ``Module.__getattr__`` never sees them."""
    model = tr.nn.Sequential(tr.nn.Linear(2, 3), tr.nn.LSTM(3, 4))
    model.register_buffer("steps", tr.zeros(1))
    model.plain = 5
    assert model[0].weight.shape == (3, 2) and model.steps.shape == (1,) and model.plain == 5
    assert vars(model)["steps"] is model.steps  # found by the ordinary lookup
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert np.array_equal(clone[0].weight.numpy(), model[0].weight.numpy())
        assert clone.plain == 5 and isinstance(clone[1], tr.nn.LSTM)
    with pytest.raises(AttributeError, match=r"^tinygrad_rnn\.nn\.Module\.register_forward_hook is not supported"):
        model[1].register_forward_hook(lambda module, inputs, output: None)


def test_a_module_property_that_raises_keeps_its_own_error():
    """A property of a layer that raises ``AttributeError`` keeps its message, as without ``__getattr__``."""

    class Layer(tr.nn.Module):
        @property
        def width(self):
            return self.no_such_field

    with pytest.raises(AttributeError, match=r"^'Layer' object has no attribute 'no_such_field'$"):
        Layer().width  # noqa: B018


def test_a_module_subclass_can_extend_getattr_through_super():
    """A PyTorch idiom: a model's own ``__getattr__`` falls back to ``super().__getattr__(name)``."""

    class Wrapper(tr.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = tr.nn.Linear(2, 2)

        def __getattr__(self, name):
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self.inner, name)

    wrapper = Wrapper()
    assert wrapper.in_features == 2 and wrapper.weight is wrapper.inner.weight


def test_a_property_that_raises_keeps_its_own_error():
    """``__getattr__`` runs after a property raised ``AttributeError``; the property's message survives
    (``shape`` reads the unset ``array`` field of a blank tensor), as without ``__getattr__``."""
    blank = object.__new__(tr.Tensor)
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'array'$"):
        blank.shape  # noqa: B018
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'grad'$"):
        blank.grad  # noqa: B018


def test_tensors_keep_slots_and_still_copy_pickle_and_convert():
    x = tr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert not hasattr(x, "__dict__")
    with pytest.raises(AttributeError):
        x.no_such_field = 1
    clone = copy.deepcopy(x)
    assert clone is not x and clone.requires_grad and np.array_equal(clone.numpy(), x.numpy())
    clone.data.fill_(0.0)
    assert x.numpy()[0, 0] == 1.0
    assert np.array_equal(copy.copy(x).numpy(), x.numpy())
    assert np.array_equal(pickle.loads(pickle.dumps(x)).numpy(), x.numpy())
    assert np.array_equal(np.asarray(x.numpy()), [[1.0, 2.0], [3.0, 4.0]])
    assert np.array_equal(np.asarray(x.detach()), [[1.0, 2.0], [3.0, 4.0]])
    assert hasattr(x, "shape") and hasattr(x, "grad") and hasattr(x, "clamp")


def test_a_pytorch_script_gets_the_advice_where_it_touches_the_name():
    script = "import tinygrad_rnn as torch\nx = torch.zeros(2, 3)\ny = torch.nn.functional.conv1d(x, x)\n"
    with pytest.raises(AttributeError) as raised:
        exec(compile(script, "train.py", "exec"), {})
    message = str(raised.value)
    assert message.startswith("tinygrad_rnn.nn.functional.conv1d is not supported by tinygrad_rnn: ")
    assert "convolutions are out of scope" in message and "nn.RNN" in message
    assert any(frame.filename == "train.py" and frame.lineno == 3
               for frame in __import__("traceback").extract_tb(raised.value.__traceback__))


@pytest.mark.parametrize("touch, expected", [
    (lambda: tr.nn.Conv1d(4, 8, 3), "convolutions are out of scope"),
    (lambda: tr.optim.lr_scheduler.CyclicLR, "LambdaLR"),
    (lambda: tr.optim.NAdam, "use Adam"),
    (lambda: tr.zeros(3).cumprod(0), r"x\.log\(\)\.cumsum\(dim\)"),
    (lambda: tr.scatter_add, "one_hot"),
    (lambda: tr.inf, "math.inf"),
    (lambda: tr.cuda.amp.GradScaler(), "no mixed precision"),
    (lambda: tr.cuda.Event(enable_timing=True), r"tr\.cuda\.synchronize\(\)"),
    (lambda: tr.cuda.set_device(1), r"cuda:1"),
    (lambda: tr.cuda.max_memory_allocated(), r"tr\.cuda\.memory_allocated\(\)"),
    (lambda: tr.nn.LSTM(2, 3).half(), r"model\.to\(tr\.float16\)"),
    (lambda: tr.nn.utils.weight_norm(tr.nn.Linear(2, 3)), "g \\* v / v.norm"),
    (lambda: tr.nn.utils.prune.l1_unstructured, "mask"),
    (lambda: tr.nn.init.xavier_uniform(tr.zeros(2, 2)), "use xavier_uniform_"),
    (lambda: tr.utils.data.DistributedSampler, "RandomSampler"),
])
def test_the_usual_guesses_say_what_to_use(touch, expected):
    with pytest.raises(AttributeError, match=expected):
        touch()


def test_the_transformer_layers_still_refuse_themselves():
    """``nn.Transformer`` and its kin exist (so that a subclass fails at its definition): not listed here."""
    assert not set(UNSUPPORTED["tinygrad_rnn.nn"]) & {"Transformer", "MultiheadAttention"}
    with pytest.raises(NotImplementedError, match="cannot subclass nn.TransformerEncoderLayer"):
        type("Block", (tr.nn.TransformerEncoderLayer,), {})
    with pytest.raises(NotImplementedError, match="nn.Transformer is not provided"):
        tr.nn.Transformer()
