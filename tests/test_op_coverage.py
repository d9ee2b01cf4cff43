"""Every differentiable op the package exports has a gradient test, and a new one cannot
land without one.

The lists below classify every public Tensor method, every arithmetic operator and every
``tr.`` function: either it is differentiable and named with the test module whose tests
hold its gradient against a closed form, finite differences or PyTorch, or it is not
differentiable and says why. An export in neither list fails ``test_every_export_is_classified``:
whoever adds an op must add its gradient test and name it here. (``tr.abs`` and the other
functions made from methods by ``_function_of`` in ``__init__.py`` are the methods
themselves, and are checked to be.)

The ops registered with ``@register`` (``ops/registry.py``: ``exp``, ``tanh``, ...) get their
method and ``tr.`` function from the registry; the tests at the end walk it: each registered
op must be named in GRADIENT_TESTS, and its method must be the registered op."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.ops import REGISTRY

TESTS = Path(__file__).parent

# op -> the test module holding its gradient (closed form and finite differences, or PyTorch)
GRADIENT_TESTS = {
    **dict.fromkeys(
        "abs add clamp clip cos div exp log maximum minimum mul neg pow relu sigmoid sin sqrt sub tanh where "
        "float double half to".split(), "test_ops_elementwise"),
    **dict.fromkeys(
        "amax amin dropout log_softmax logsumexp max mean min softmax std sum var".split(), "test_ops_reduce"),
    **dict.fromkeys(
        "broadcast_to chunk expand flatten matmul permute reshape split squeeze swapaxes transpose unbind "
        "unsqueeze view".split(), "test_ops_shape"),
    **dict.fromkeys("add_ clamp_ clip_ clone copy_ div_ fill_ mul_ sub_ zero_".split(), "test_inplace"),
    **dict.fromkeys("cpu cuda".split(), "test_devices"),
    **dict.fromkeys("square rsqrt log1p sign round".split(), "test_ops_elementwise"),
    **dict.fromkeys(
        "masked_fill masked_fill_ abs_ cos_ exp_ log_ log1p_ neg_ relu_ round_ rsqrt_ sigmoid_ sign_ sin_ sqrt_ "
        "square_ tanh_".split(), "test_ops_pointwise"),
    **dict.fromkeys("sort topk".split(), "test_ops_sorting"),
    **dict.fromkeys("clamp_min clamp_max clamp_min_ clamp_max_ repeat_interleave".split(),
                    "test_schedulers_and_repeats"),
    **dict.fromkeys("prod cumsum norm".split(), "test_ops_products"),
    **dict.fromkeys(
        "gather index_select narrow flip repeat t contiguous expand_as view_as reshape_as type".split(),
        "test_ops_selection"),
    # operators: the module and the spelling searched for in it
    "__abs__": ("test_ops_elementwise", "abs,"), "__add__": ("test_ops_elementwise", "a + b"),
    "__radd__": ("test_ops_elementwise", "2 + x"), "__sub__": ("test_ops_elementwise", "a - b"),
    "__rsub__": ("test_ops_elementwise", "2 - x"), "__mul__": ("test_ops_elementwise", "a * b"),
    "__rmul__": ("test_ops_elementwise", "2.5 * x"), "__truediv__": ("test_ops_elementwise", "a / b"),
    "__rtruediv__": ("test_ops_elementwise", "3 / x"), "__pow__": ("test_ops_elementwise", "a**b"),
    "__rpow__": ("test_ops_elementwise", "2**x"), "__neg__": ("test_ops_elementwise", "-x"),
    "__matmul__": ("test_ops_shape", " @ "), "__rmatmul__": ("test_ops_shape", "left @ t"),
    "__getitem__": ("test_ops_shape", "t[index]"), "__setitem__": ("test_inplace", "] = "),
    "__iadd__": ("test_inplace", "+="), "__isub__": ("test_inplace", "-="), "__imul__": ("test_inplace", "*="),
    "__itruediv__": ("test_inplace", "/="),
    # functions that are not methods
    "cat": ("test_ops_shape", "tr.cat("), "stack": ("test_ops_shape", "tr.stack("),
    "tr.where": ("test_ops_elementwise", "tr.where("),
}

NOT_DIFFERENTIABLE = {
    **dict.fromkeys(
        "all any argmax argmin argsort eq isfinite isnan logical_and logical_not logical_or logical_xor __and__ "
        "__rand__ __or__ __ror__ __xor__ __rxor__ __invert__ __iand__ __ior__ __ixor__".split(),
        "a bool or integer result"),
    **dict.fromkeys(
        "unsqueeze_ squeeze_".split(), "changes the shape in place: refused where a gradient is recorded"),
    **dict.fromkeys("bool int long".split(), "a cast to a non-float dtype (cut from the graph, as in PyTorch)"),
    **dict.fromkeys("item tolist numpy".split(), "a conversion out of the framework"),
    **dict.fromkeys("dim numel size".split(), "a shape query"),
    **dict.fromkeys("new_ones new_tensor new_zeros".split(), "creates a new leaf"),
    **dict.fromkeys("normal_ uniform_".split(), "fills with random numbers (gradient to the old values is 0)"),
    **dict.fromkeys("backward detach register_hook requires_grad_ retain_grad".split(), "graph control"),
    **dict.fromkeys(
        "arange eye from_dlpack from_numpy full full_like linspace ones ones_like rand rand_like randint randn "
        "randn_like tensor zeros zeros_like one_hot".split(), "creates a tensor"),
    **dict.fromkeys(
        "get_default_device set_default_device get_rng_state set_rng_state manual_seed is_grad_enabled load save "
        "grad gradcheck gradgradcheck".split(), "not an op on tensors"),
}

# PyTorch's function forms (functional_forms.py, linalg_forms.py, sampling.py, threads.py), keyed as _exports
# names them: "tr.<name>" where Tensor has a method of that name too, else "<name>".
for _names, _module in (("add sub mul div pow neg tril triu mm bmm addmm addcmul addcdiv concat concatenate",
                          "test_torch_functions"),
                        ("einsum", "test_einsum")):
    GRADIENT_TESTS.update({f"tr.{n}" if hasattr(tr.Tensor, n) else n: _module for n in _names.split()})
for _names, _module in (("diag floor_divide remainder tr.diag tr.max tr.min tr.remainder", "test_pytorch_tutorials"),
                        ("addcmul addcdiv addcmul_ addcdiv_", "test_torch_functions")):
    GRADIENT_TESTS.update(dict.fromkeys(_names.split(), _module))  # the gaps the tutorial scripts found
NOT_DIFFERENTIABLE.update({**dict.fromkeys("ge gt le lt ne".split(), "a bool or integer result"),
                           "nelement": "a shape query",
                           **dict.fromkeys("new_empty new_full".split(), "creates a new leaf")})
for _names, _why in (("multinomial", "draws random indices (an integer result)"), ("is_tensor", "a type query"),
                     ("get_num_threads set_num_threads", "not an op on tensors"),
                     ("allclose equal", "a bool result"),
                     ("as_tensor empty empty_like randperm", "creates a tensor"),
                     ("get_default_dtype set_default_dtype", "not an op on tensors")):
    NOT_DIFFERENTIABLE.update({f"tr.{n}" if hasattr(tr.Tensor, n) else n: _why for n in _names.split()})

OPERATORS = ["__abs__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
             "__rtruediv__", "__pow__", "__rpow__", "__neg__", "__matmul__", "__rmatmul__", "__getitem__",
             "__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__", "__and__", "__rand__", "__or__",
             "__ror__", "__xor__", "__rxor__", "__invert__", "__iand__", "__ior__", "__ixor__"]


def _methods() -> set:
    return {n for n in dir(tr.Tensor) if not n.startswith("_") and callable(getattr(tr.Tensor, n, None))}


def _functions() -> set:
    """``tr.`` functions, except those made from a method (they are that method)."""
    names = {n for n in dir(tr) if not n.startswith("_") and inspect.isfunction(getattr(tr, n))}
    return {n for n in names if n not in tr._METHODS_AS_FUNCTIONS}


def _exports() -> set:
    functions = {f"tr.{n}" if n in _methods() else n for n in _functions()}
    return _methods() | set(OPERATORS) | functions


def test_every_export_is_classified():
    exports = _exports()
    unclassified = sorted(exports - set(GRADIENT_TESTS) - set(NOT_DIFFERENTIABLE))
    assert not unclassified, (
        f"exported but neither gradient-tested nor declared not differentiable: {unclassified}; write the "
        "op's gradient test and name its module in GRADIENT_TESTS (tests/test_op_coverage.py)"
    )
    stale = sorted((set(GRADIENT_TESTS) | set(NOT_DIFFERENTIABLE)) - exports)
    assert not stale, f"listed but no longer exported: {stale}"
    assert not set(GRADIENT_TESTS) & set(NOT_DIFFERENTIABLE)


@pytest.mark.parametrize("op", sorted(GRADIENT_TESTS))
def test_the_named_module_tests_the_gradient_of_the_op(op):
    entry = GRADIENT_TESTS[op]
    module, spelling = entry if isinstance(entry, tuple) else (entry, None)
    source = (TESTS / f"{module}.py").read_text()
    if spelling is None:
        name = op.removeprefix("tr.")
        found = re.search(rf"\.{name}\(|tr\.{name}\b|\"{name}\"", source)
    else:
        found = spelling in source
    assert found, f"{module}.py never calls {op}"
    assert re.search(r"\.grad\b|check_gradients|gradcheck", source), f"{module}.py checks no gradient"


@pytest.mark.parametrize("name", sorted(tr._METHODS_AS_FUNCTIONS))
def test_functions_made_from_methods_call_the_method(name):
    function = getattr(tr, name)
    assert inspect.getclosurevars(function).nonlocals["method"] is getattr(tr.Tensor, name)
    assert function.__doc__ == getattr(tr.Tensor, name).__doc__


@pytest.mark.parametrize("call", [
    lambda x: x.argmax(), lambda x: x.argmin(), lambda x: x.eq(x), lambda x: x.isnan(), lambda x: x.isfinite(),
    lambda x: x.all(), lambda x: x.any(), lambda x: x.long(), lambda x: x.int(), lambda x: x.bool(),
    lambda x: x.argsort(), lambda x: x.logical_not(), lambda x: x.logical_and(x), lambda x: x.logical_or(x),
    lambda x: x.logical_xor(x), lambda x: ~(x > 0), lambda x: (x > 0) & (x < 1), lambda x: (x > 0) | (x < 1),
    lambda x: (x > 0) ^ (x < 1), lambda x: x.sort().indices, lambda x: x.topk(1).indices,
])
def test_the_ops_declared_not_differentiable_make_no_graph(call):
    x = tr.tensor([1.0, -2.0], requires_grad=True)
    out = call(x)
    assert out.grad_fn is None and not out.requires_grad
    assert np.asarray(out.numpy()).dtype.kind in "biu"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_op_has_a_gradient_test(name):
    assert name in GRADIENT_TESTS, (
        f"ops.REGISTRY makes x.{name}() ({REGISTRY[name].op.__name__}), but GRADIENT_TESTS names no test of its "
        "gradient: add it to the unary table of tests/test_ops_elementwise.py and its name here"
    )
    assert (name in tr._METHODS_AS_FUNCTIONS) == REGISTRY[name].function, f"tr.{name} exists iff function=True"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_method_of_a_registered_op_applies_it(name):
    method, op = getattr(tr.Tensor, name), REGISTRY[name].op
    assert method.__doc__ == op.__doc__, f"Tensor.{name} is not the registered op's method (a name clash?)"
    x = tr.tensor([0.5, 1.5], requires_grad=True)
    assert type(getattr(x, name)().grad_fn) is op
