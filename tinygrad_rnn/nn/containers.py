"""Containers: modules that hold modules or parameters and register them, so that
``parameters()``, ``state_dict()`` and ``to()`` see them under PyTorch's names:
``Sequential`` and ``ModuleList`` ("0", "1", ...), ``ModuleDict`` (its keys), ``ParameterList``
("0", "1", ...) and ``ParameterDict`` (its keys). A model holding ``self.heads = ModuleDict(...)``
has state_dict keys such as ``heads.left.weight``, as in PyTorch."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def _absolute_index(name: str, index, length: int) -> int:
    """``index`` (an int, possibly negative) as a position in [0, length), or IndexError."""
    index = operator.index(index)
    if not -length <= index < length:
        raise IndexError(f"{name}: index {index} is out of range for length {length}")
    return index + length if index < 0 else index


def _check_key(name: str, container: Module, key, own) -> None:
    """PyTorch's rules for a key that becomes an attribute name: a non-empty string without '.',
    and not a name the container already has for something else (a method such as ``keys``)."""
    if not isinstance(key, str):
        raise TypeError(f"{name}: keys must be strings, got {type(key).__name__}")
    if "." in key or not key:
        raise KeyError(f"{name}: a key must be non-empty and contain no '.', got {key!r}")
    if key not in own and hasattr(container, key):
        raise KeyError(f"{name}: attribute '{key}' already exists")


def _pairs(name: str, items):
    """The (key, value) pairs of a mapping or of an iterable of pairs, for ``update``."""
    if isinstance(items, Mapping):
        return list(items.items())
    if not isinstance(items, Iterable):
        raise TypeError(f"{name}.update: expected a mapping or an iterable of (key, value) pairs, "
                        f"got {type(items).__name__}")
    pairs = []
    for position, pair in enumerate(items):
        pair = tuple(pair)
        if len(pair) != 2:
            raise ValueError(f"{name}.update: element #{position} has length {len(pair)}; 2 is required")
        pairs.append(pair)
    return pairs


class _IndexedModules(Module):
    """What ``Sequential`` and ``ModuleList`` share: submodules in order, read and written by position."""

    def _key(self, index) -> str:
        return list(self._modules)[_absolute_index(type(self).__name__, index, len(self._modules))]

    def _renumber(self, modules) -> None:
        """Hold exactly ``modules``, named "0", "1", ... (PyTorch renumbers after a deletion)."""
        for key in list(self._modules):
            self.__dict__.pop(key, None)
        self._modules.clear()
        for index, module in enumerate(modules):
            self.add_module(str(index), module)

    def _sliced(self, index: slice):
        raise NotImplementedError

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._sliced(index)
        return self._modules[self._key(index)]

    def __setitem__(self, index, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: expected a Module, got {type(module).__name__}")
        self.add_module(self._key(index), module)

    def __delitem__(self, index) -> None:
        modules = list(self._modules.values())
        del modules[index if isinstance(index, slice) else _absolute_index(type(self).__name__, index, len(modules))]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module):
        """Add ``module`` at the end; returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.append: expected a Module, got {type(module).__name__}")
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        """Append every module of ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (renumbering the ones after it)."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.insert: expected a Module, got {type(module).__name__}")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at ``index`` (the last by default)."""
        module = self[index]
        del self[index]
        return module

    def __iadd__(self, modules):
        return self.extend(modules)


class Sequential(_IndexedModules):
    """Layers applied one after another: ``Sequential(Linear(2, 8), Tanh(), Linear(8, 1))(x)`` is
    f₃(f₂(f₁(x))). Named "0", "1", ..., or by the keys of one ``OrderedDict`` argument, as in PyTorch."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for key, module in modules[0].items():
                self.add_module(key, module)
            return
        for module in modules:
            self.append(module)

    def _sliced(self, index: slice) -> Sequential:
        return Sequential(OrderedDict(list(self._modules.items())[index]))  # the names stay, as in PyTorch

    def forward(self, input):  # noqa: A002
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_IndexedModules):
    """A list of modules whose parameters are registered: ``ModuleList([Linear(4, 4) for _ in range(3)])``
    (names "0", "1", ...). It has no ``forward``: iterate over it."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules if modules is not None else ())

    def _sliced(self, index: slice) -> ModuleList:
        return ModuleList(list(self._modules.values())[index])

    def __add__(self, other) -> ModuleList:
        return ModuleList(list(self) + list(other))


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys, in insertion order:
    ``ModuleDict({"encoder": LSTM(8, 16), "head": Linear(16, 4)})`` has state_dict keys such as
    ``encoder.weight_ih_l0`` and ``head.bias``. It has no ``forward``: index it."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        _check_key("ModuleDict", self, key, self._modules)
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {key!r} must be a Module, got {type(module).__name__}")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]
        self.__dict__.pop(key, None)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        """The keys, in insertion order."""
        return self._modules.keys()

    def items(self):
        """(key, module) pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        for key in list(self._modules):
            del self[key]

    def update(self, modules) -> None:
        """Add or replace modules from a mapping (its order kept) or an iterable of (key, module) pairs."""
        for key, module in _pairs("ModuleDict", modules):
            self[key] = module


def _as_parameter(value):
    """PyTorch's rule for parameter containers: a tensor that is no Parameter becomes one (sharing its
    memory, requiring grad); anything else is stored as it is."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


def _describe(value) -> str:
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        device = "" if value.device == "cpu" else f" ({value.device})"
        return f"{kind} containing: [{value.dtype} of size {'x'.join(map(str, value.shape))}{device}]"
    return f"Object of type: {type(value).__name__}"


class ParameterList(Module):
    """A list of parameters, registered as "0", "1", ... (state_dict keys ``name.0``, ``name.1``):
    ``ParameterList([Parameter(randn(3)) for _ in range(2)])``. Tensors become Parameters."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList([self[i] for i in range(len(self))[index]])
        return getattr(self, str(_absolute_index("ParameterList", index, self._size)))

    def __setitem__(self, index, value) -> None:
        setattr(self, str(_absolute_index("ParameterList", index, self._size)), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value) -> ParameterList:
        """Add ``value`` at the end; returns self."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values) -> ParameterList:
        """Append every value of ``values`` (an iterable, not a tensor); returns self."""
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(f"ParameterList.extend: expected an iterable of parameters, got {type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({i}): {_describe(value)}" for i, value in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters registered under their keys (state_dict keys ``name.key``). Tensors
    become Parameters. As in PyTorch, ``update`` with a plain ``dict`` adds its items sorted by key;
    an ``OrderedDict``, a ``ParameterDict`` or a sequence of pairs keeps its order."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        _check_key("ParameterDict", self, key, self._keys)
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def keys(self):
        """The keys, in insertion order."""
        return self._keys.keys()

    def items(self):
        """(key, parameter) pairs, in insertion order."""
        return ((key, self[key]) for key in self._keys)

    def values(self):
        """The parameters, in insertion order."""
        return (self[key] for key in self._keys)

    def get(self, key: str, default=None):
        """The parameter under ``key``, or ``default``."""
        return self[key] if key in self else default

    def setdefault(self, key: str, default=None):
        """The parameter under ``key``, after setting it to ``default`` if it was missing."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str):
        """Remove ``key`` and return its parameter."""
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple:
        """Remove and return the last inserted (key, parameter) pair."""
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self) -> None:
        """Remove every parameter."""
        for key in list(self._keys):
            del self[key]

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (not copies of them), in the same order."""
        return ParameterDict(OrderedDict(self.items()))

    def update(self, parameters) -> None:
        """Add or replace parameters; a plain ``dict`` is added sorted by key (PyTorch's rule)."""
        if isinstance(parameters, OrderedDict | ParameterDict):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = _pairs("ParameterDict", parameters)
        for key, value in pairs:
            self[key] = value

    def __or__(self, other) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ior__(self, other) -> ParameterDict:
        self.update(other)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({key}): {_describe(value)}" for key, value in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")
