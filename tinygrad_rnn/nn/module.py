"""``Module``: the base of every layer. It finds its parameters and submodules by
attribute assignment, so a model is plain Python: assign layers in ``__init__``,
use them in ``forward``."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

from .. import backend, unsupported
from ..autograd import clear_grad, no_grad
from ..tensor import Tensor
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
IncompatibleKeys.__doc__ = "What ``load_state_dict(strict=False)`` could not match, as in PyTorch."


class Module:
    """Base class of layers and models.

    Subclasses call ``super().__init__()`` first, assign ``Parameter``\\s, submodules
    and buffers (``register_buffer``) as attributes, and implement ``forward``.
    ``module(x)`` calls ``forward(x)``.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        parameters, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):  # a name that was a parameter keeps its place (state_dict order)
            buffers.pop(name, None)
            modules.pop(name, None)
            parameters[name] = value
        elif isinstance(value, Module):
            parameters.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in buffers and (value is None or isinstance(value, Tensor)):  # a buffer stays one, as in PyTorch
            buffers[name] = value
        else:  # anything else unregisters the name (PyTorch refuses a tensor for a parameter's name instead)
            for registry in (parameters, buffers, modules):
                registry.pop(name, None)
            if value is None and name in self.__dict__.get("_none_slots", ()):
                parameters[name] = None
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        """Called only when the ordinary lookup of ``name`` has failed (parameters, buffers and submodules
        are instance attributes, so it never runs for them): a PyTorch method listed in ``unsupported.py``
        (``register_forward_hook``, ``half``, ...) raises an ``AttributeError`` saying what to use instead;
        any other name, Python's usual one, so ``hasattr``, ``copy`` and ``pickle`` behave as before. A
        property that raised ``AttributeError`` raises it again, unchanged."""
        if name in unsupported.UNSUPPORTED["tinygrad_rnn.nn.Module"]:
            raise unsupported.missing("tinygrad_rnn.nn.Module", name, self)
        if hasattr(type(self), name):  # a descriptor of the class raised: let its own error through
            return object.__getattribute__(self, name)
        raise unsupported.missing("tinygrad_rnn.nn.Module", name, self)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Keep a tensor that is state but not trained (saved in ``state_dict``, moved by ``to``)."""
        _check_name("register_buffer", name)
        object.__setattr__(self, name, tensor)
        self._buffers[name] = tensor

    def register_parameter(self, name: str, parameter: Parameter | None) -> None:
        """Register ``parameter`` under ``name`` (``None`` records an absent one, e.g. no bias)."""
        if parameter is not None and not isinstance(parameter, Parameter):
            raise TypeError(f"register_parameter: {name} must be a Parameter or None, got {type(parameter).__name__}")
        _check_name("register_parameter", name)
        object.__setattr__(self, name, parameter)
        self._parameters[name] = parameter

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a submodule under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name} must be a Module or None, got {type(module).__name__}")
        _check_name("add_module", name)
        object.__setattr__(self, name, module)
        self._modules[name] = module

    # ------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = ""):
        """Yield ``(name, module)`` for this module and every module inside it, once each,
        depth first in registration order (PyTorch's order, so state_dict keys line up)."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        """Every module inside this one, itself first."""
        return (module for _, module in self.named_modules())

    def named_children(self):
        """Yield ``(name, module)`` for the direct submodules."""
        return ((name, m) for name, m in self._modules.items() if m is not None)

    def children(self):
        """The direct submodules."""
        return (module for _, module in self.named_children())

    def _named_members(self, registry: str, recurse: bool):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for module_name, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, recurse: bool = True):
        """Yield ``(dotted name, parameter)``; a parameter shared by two layers comes once."""
        return self._named_members("_parameters", recurse)

    def parameters(self, recurse: bool = True):
        """Every parameter, for an optimizer: ``optim.SGD(model.parameters(), lr=0.1)``."""
        return (p for _, p in self.named_parameters(recurse))

    def named_buffers(self, recurse: bool = True):
        """Yield ``(dotted name, buffer)``."""
        return self._named_members("_buffers", recurse)

    def buffers(self, recurse: bool = True):
        """Every buffer."""
        return (b for _, b in self.named_buffers(recurse))

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` (``"encoder.layers.0"``; ``""`` is this module), as
        PyTorch's ``get_submodule``. ``AttributeError`` naming the step that has no such attribute or
        is not a Module."""
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}` (get_submodule({target!r}))")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module (get_submodule({target!r}))")
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (``"encoder.weight_ih_l0"``, a key of
        ``named_parameters()``), as PyTorch's ``get_parameter``. ``AttributeError`` when a step is
        missing or the last one is not an ``nn.Parameter``."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}` (get_parameter({target!r}))")
        parameter = getattr(module, name)
        if not isinstance(parameter, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter (get_parameter({target!r}))")
        return parameter

    # ------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active) for this module and all inside it; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: to None, or to zeros in place as PyTorch (``autograd.clear_grad``)."""
        for p in self.parameters():
            clear_grad(p, set_to_none)

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every submodule (children first) and on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ device and dtype
    def to(self, *args, dtype=None, device=None) -> Module:
        """Move every parameter and buffer to a device and/or cast its floats to a dtype,
        in place (parameters stay the same objects, so an optimizer keeps working)."""
        for arg in args:
            if backend.is_device_name(arg):
                device = arg
            else:
                dtype = arg
        device = backend.normalize_device(device) if device is not None else None
        dtype = backend.as_dtype(dtype) if dtype is not None else None
        if dtype is not None and not backend.is_floating(dtype):
            raise TypeError(f"Module.to: dtype must be a floating dtype, got {dtype}")

        def convert(tensor: Tensor) -> None:
            converted = tensor.detach()
            if device is not None:
                converted = converted.to(device)
            if dtype is not None and tensor.dtype.kind == "f":
                converted = converted.to(dtype)
            tensor.array = converted.array
            if tensor.grad is not None:
                tensor.grad = tensor.grad.to(tensor.device).to(tensor.dtype)

        for tensor in list(self.parameters()) + list(self.buffers()):
            convert(tensor)
        return self

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32."""
        return self.to(backend.float32)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64."""
        return self.to(backend.float64)

    def cpu(self) -> Module:
        """Move to the CPU."""
        return self.to("cpu")

    def cuda(self, device: int | str | None = None) -> Module:
        """Move to a CUDA GPU."""
        return self.to(f"cuda:{device}" if isinstance(device, int) else (device or "cuda"))

    # ------------------------------------------------------------ state
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and buffer by dotted name, as PyTorch's ``state_dict``: an ``OrderedDict``
        of Tensors in registration order (``named_modules`` order, parameters before buffers).

        With ``keep_vars=False`` (the default) each value is ``tensor.detach()``: it shares the
        parameter's memory (and version counter), so a later in-place change of the model, such as
        an optimizer step, shows in it, exactly as in PyTorch; it has no ``grad_fn`` and does not
        require grad. Snapshot with ``{k: v.clone() for k, v in model.state_dict().items()}`` (or
        ``copy.deepcopy``), as in PyTorch. ``keep_vars=True`` gives the ``Parameter``\\s and buffers
        themselves. Entries are written into ``destination`` (an ``OrderedDict`` is made when None)
        with ``prefix`` before each key, and ``destination`` is returned, as PyTorch's arguments do.
        """
        if destination is None:
            destination = OrderedDict()
        elif not isinstance(destination, dict):  # entries are assigned by key, as PyTorch does
            raise TypeError(f"state_dict: destination must be a dict (or None), got {type(destination).__name__}")
        if not isinstance(prefix, str):
            raise TypeError(f"state_dict: prefix must be a str, got {type(prefix).__name__}")
        for module_name, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, tensor in registry.items():
                    if tensor is not None:
                        key = f"{prefix}{module_name}.{name}" if module_name else f"{prefix}{name}"
                        destination[key] = tensor if keep_vars else tensor.detach()
        return destination

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` (tensors, as ``state_dict()`` and ``tr.load`` give them,
        NumPy arrays, or anything array-like) into this module's parameters and buffers, in
        place, keeping each one's dtype, device and memory (optimizers and views keep seeing them).

        All or nothing: every key, shape and value is checked before anything is written,
        and one error lists every problem (with ``strict``, the default, missing and
        unexpected keys are problems too; shape mismatches and non-numeric values always
        are). Each tensor written has its version bumped, as any in-place write does, so a
        backward through a graph recorded before the load raises instead of silently
        using the new values.
        """
        own = {}
        for module_name, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, tensor in registry.items():
                    if tensor is not None:
                        own[f"{module_name}.{name}" if module_name else name] = tensor
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        arrays, bad = {}, []
        for key, tensor in own.items():
            if key in state_dict:
                problem, arrays[key] = _loadable_array(state_dict[key], tensor)
                if problem:
                    bad.append(f"{key}: {problem}")
        problems = []
        if bad:
            problems.append("bad values: " + "; ".join(bad))
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            name = type(self).__name__
            raise RuntimeError(f"load_state_dict into {name} (nothing was loaded): " + " | ".join(problems))
        with no_grad():
            for key, array in arrays.items():
                tensor = own[key]
                tensor.array[...] = backend.to_device(array, tensor.device)  # in place; casts to tensor's dtype
                tensor._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """The constructor arguments shown in ``repr`` (layers override this)."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: ``Linear(in_features=2, ...)`` on one line, or the extra_repr lines and then
        the children, each ``(name): repr``, indented by two spaces."""
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): " + "\n  ".join(repr(child).split("\n")) for name, child in self.named_children()]
        if len(lines) == 1 and not children:
            return f"{type(self).__name__}({lines[0]})"
        body = lines + children
        return f"{type(self).__name__}(" + ("\n  " + "\n  ".join(body) + "\n" if body else "") + ")"


def _check_name(what: str, name) -> None:
    """PyTorch's rules for the name of a parameter, buffer or submodule: a non-empty string without '.'
    (a dot would make its state_dict key ambiguous)."""
    if not isinstance(name, str):
        raise TypeError(f"{what}: the name must be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{what}: the name must be non-empty and contain no '.', got {name!r}")


def _loadable_array(value, tensor: Tensor):
    """``(problem, array)``: ``value`` as an array that fits ``tensor``, or a description of
    why it does not (wrong shape, not numeric) for ``load_state_dict``'s one error."""
    array = value.array if isinstance(value, Tensor) else value
    if not backend.is_array(array):
        try:
            array = backend.host_array(array)
        except (TypeError, ValueError) as error:
            return f"cannot be read as an array ({error})", None
    if array.dtype.kind not in "biuf":
        return f"expected numbers to store in a {tensor.dtype} tensor, got dtype {array.dtype}", None
    if tuple(array.shape) != tensor.shape:
        return f"expected shape {tensor.shape}, got {tuple(array.shape)}", None
    return None, array
