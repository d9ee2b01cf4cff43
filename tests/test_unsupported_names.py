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
from tinygrad_rnn.unsupported import UNSUPPORTED

TENSOR = "tinygrad_rnn.Tensor"
MODULES = [namespace for namespace in UNSUPPORTED if namespace != TENSOR]
LISTED = [(namespace, name) for namespace, table in UNSUPPORTED.items() for name in sorted(table)]


def _holder(namespace: str):
    """What a user touches for ``namespace``: the module itself, or a tensor."""
    return tr.zeros(2, 3) if namespace == TENSOR else importlib.import_module(namespace)


def test_the_table_covers_the_namespaces_that_look_it_up():
    assert set(UNSUPPORTED) == {
        "tinygrad_rnn", TENSOR, "tinygrad_rnn.nn", "tinygrad_rnn.nn.functional", "tinygrad_rnn.optim",
        "tinygrad_rnn.optim.lr_scheduler"}
    for namespace in MODULES:
        lookup = vars(importlib.import_module(namespace))["__getattr__"]
        assert lookup.__module__ == namespace and lookup.__qualname__ == "__getattr__"
    assert "__getattr__" in vars(tr.Tensor)
    assert len(LISTED) > 300


@pytest.mark.parametrize("namespace, name", LISTED)
def test_a_listed_name_is_absent_and_raises_its_advice(namespace, name):
    advice = UNSUPPORTED[namespace][name]
    assert advice and "\n" not in advice and advice == advice.strip()
    if namespace == TENSOR:
        assert not any(name in vars(klass) for klass in tr.Tensor.__mro__), f"Tensor.{name} exists: unlist it"
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
                    "tinygrad_rnn.optim.lr_scheduler": torch.optim.lr_scheduler}
    not_pytorch = [f"{namespace}.{name}" for namespace, name in LISTED
                   if not hasattr(counterparts[namespace], name)]
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
    script = "import tinygrad_rnn as torch\nx = torch.zeros(2, 3)\ny = torch.nn.functional.pad(x, (0, 1))\n"
    with pytest.raises(AttributeError) as raised:
        exec(compile(script, "train.py", "exec"), {})
    message = str(raised.value)
    assert message.startswith("tinygrad_rnn.nn.functional.pad is not supported by tinygrad_rnn: ")
    assert "tr.cat" in message and "pad_sequence" in message
    assert any(frame.filename == "train.py" and frame.lineno == 3
               for frame in __import__("traceback").extract_tb(raised.value.__traceback__))


@pytest.mark.parametrize("touch, expected", [
    (lambda: tr.nn.Conv1d(4, 8, 3), "convolutions are out of scope"),
    (lambda: tr.optim.lr_scheduler.MultiStepLR, "LambdaLR"),
    (lambda: tr.optim.NAdam, "use Adam"),
    (lambda: tr.zeros(3).clamp_min(0.0), r"x\.clamp\(min=value\)"),
    (lambda: tr.scatter_add, "one_hot"),
    (lambda: tr.inf, "math.inf"),
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
