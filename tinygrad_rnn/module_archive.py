"""Whole modules in a checkpoint, ``tr.save(model, f)`` and ``tr.load(f, weights_only=False)``, without pickle.

``torch.save(model, f)`` pickles the model, and unpickling runs whatever code the file names.
Here a module is *described*, never pickled. When ``obj`` holds modules, the JSON document of the
checkpoint (see ``serialization.py``) has format version 2 and two tables beside ``root``, and each
place that holds a module says ``{"module": i}``, its position in the first table::

    "root": {"module": 0},
    "modules": [{"class": ["model", "RNNModel"], "training": true,
                 "attributes": [["ntoken", 33], ["rnn_type", "LSTM"], ["shape", {"tuple": [2, 3]}]],
                 "parameters": [], "buffers": [],
                 "children": [["drop", 1], ["encoder", 2], ["rnn", 3], ["decoder", 4]]}, ...],
    "tensors": [{"array": "a0", "parameter": true, "requires_grad": true, "device": "cpu"}, ...]

``parameters``, ``buffers`` and ``children`` are the module's three registries, in their order (the
order of ``parameters()`` and of ``state_dict()``); their values are positions in ``tensors`` and
``modules`` (or ``None`` for a name registered as absent, such as ``bias=False``). Each module and
each tensor is stored once, so a parameter shared by two layers (tied weights) or a module used
twice comes back as one object. Attributes are plain data: ``None``, bools, ints, floats, strings,
NumPy scalars (``{"scalar": "a5"}``), dtypes (``{"dtype": "float32"}``), devices
(``{"device": "cuda:0"}``) and lists, tuples and dicts of those, tagged as in ``serialization.py``.
Anything else a module holds (a function, an arbitrary object, a tensor that is neither a parameter
nor a buffer, a module inside a plain list, a hook on a parameter) makes ``save`` raise ``TypeError``
naming it, as ``model.foo``. Gradients are not saved (nor are they by ``torch.save``).

Tensors that ``obj`` holds outside any module (the values of a ``state_dict()``) go into the same
``tensors`` table, referenced from ``root`` as ``{"tensor": i}``, so that ``load`` gives them back as
Tensors with their dtype, device and ``requires_grad``; such a document has format version 3 (its
``modules`` table may be empty), so that an older tinygrad_rnn, which does not know the tag, refuses it
by its version instead of misreading it.

Loading finds each class by its module and qualified name. It must be a subclass of ``nn.Module``;
each instance is made with ``cls.__new__(cls)`` and the base ``Module.__init__`` (never the class's
own ``__init__``) and its attributes and registries are set directly, so nothing the file names is
called. Importing a module runs its code, so a class whose module is not imported yet is imported
only when the caller passes ``weights_only=False`` and so vouches for the file, as ``torch.load``
asks; ``weights_only=True`` refuses a file holding a module, as ``torch.load`` does.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np

from . import backend
from .creation import from_numpy
from .devices import device as Device
from .nn.module import Module
from .nn.parameter import Parameter
from .npz_reader import STRUCTURE, STRUCTURE_ENTRY, Corrupt
from .tensor import Tensor

__all__ = ["ModuleWriter", "read_tables"]

# The keys of a module's __dict__ that the description stores in fields of their own.
_REGISTRIES = {"parameters": "_parameters", "buffers": "_buffers", "children": "_modules"}
_OWN = frozenset((*_REGISTRIES.values(), "training"))
_MODULE_KEYS = frozenset(("class", "training", "attributes", *_REGISTRIES))
_TENSOR_KEYS = frozenset(("array", "parameter", "requires_grad", "device"))
_PLAIN = "None, bools, ints, floats, strings, NumPy scalars, dtypes, devices, or lists, tuples and dicts of those"
_NUMERIC = "biuf"  # the dtype kinds of the arrays a tensor holds (and NumPy scalars an attribute holds)


def _show(parts: list) -> str:
    return ".".join(str(part) for part in parts)


def _refuse(parts: list, problem: str, remedy: str) -> TypeError:
    """The TypeError for something of a module that a checkpoint cannot hold, ending on the state_dict route."""
    return TypeError(
        f"save: {_show(parts)} {problem}; {remedy}. tr.save never writes a pickle, so it stores no code and no "
        "arbitrary objects; or save the weights only, with tr.save(model.state_dict(), f)"
    )


def _kind(value) -> str:
    """``a function``, ``an object of class mymodule.Thing``: what a refused value is, for error messages."""
    cls = type(value)
    if callable(value) and not isinstance(value, type):
        return f"a {cls.__name__} ({getattr(value, '__qualname__', cls.__name__)})"
    where = "" if cls.__module__ == "builtins" else f"{cls.__module__}."
    return f"an object of class {where}{cls.__qualname__}"


def _lookup(module, qualname: str):
    """The object that ``qualname`` (``Outer.Inner``) names in ``module``, or None."""
    found = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
        if found is None:
            return None
    return found


# ------------------------------------------------------------------ save
class ModuleWriter:
    """The tables of modules and tensors that ``save`` fills while it encodes ``obj``.

    ``store_array(tensor_or_scalar, parts)`` stores an array in the archive and returns its entry's name.
    The tensor table also holds the Tensors that ``obj`` holds outside any module (``tensor_reference``);
    ``loose`` says whether there are any, since such a document needs format version 3.
    """

    def __init__(self, store_array):
        self.store_array = store_array
        self.modules: list = []
        self.tensors: list = []
        self.loose = False
        self._module_index: dict = {}  # id -> position; the modules live as long as obj, so ids stay theirs
        self._tensor_index: dict = {}

    def reference(self, module: Module, parts: list) -> dict:
        """``{"module": i}`` for ``module`` at key path ``parts``, describing it (and what it holds) the first time."""
        parts = list(parts) or ["model"]
        index = self._module_index.get(id(module))
        if index is None:
            index = self._module_index[id(module)] = len(self.modules)
            self.modules.append(None)  # the place is taken first, so that a cycle back to this module finds it
            self.modules[index] = self._describe(module, parts)
        return {"module": index}

    def tensor_reference(self, tensor: Tensor, parts: list) -> dict:
        """``{"tensor": i}`` for a Tensor at key path ``parts`` outside any module (a ``state_dict()`` value,
        a tensor in a dict), as ``torch.save`` stores tensors: with its dtype, device, ``requires_grad`` and
        whether it is a ``Parameter``, so that ``load`` gives it back as such. A tensor reachable twice (here
        or as a module's parameter) is stored once and comes back as one object, as with ``torch.load``.
        Unlike a module's tensors, hooks are not refused but dropped (they are functions; PyTorch drops
        them too), and a subclass of Tensor comes back as a Tensor (or Parameter)."""
        self.loose = True
        index = self._tensor_index.get(id(tensor))
        if index is None:
            index = self._add_tensor(tensor, parts)
        return {"tensor": index}

    def _describe(self, module: Module, parts: list) -> dict:
        """The entry of ``module`` in the module table: class, training flag, registries and attributes."""
        _check_class(type(module), parts)
        state = vars(module)
        entry = {"class": [type(module).__module__, type(module).__qualname__], "training": bool(module.training)}
        registered = set()
        for key, registry in _REGISTRIES.items():
            items = []
            for name, value in state[registry].items():
                _check_name(name, [*parts, name])
                registered.add(name)
                if value is None:
                    items.append([name, None])
                elif key == "children":
                    items.append([name, self.reference(value, [*parts, name])["module"]])
                else:
                    items.append([name, self._tensor(value, [*parts, name])])
            entry[key] = items
        attributes = []
        for name, value in state.items():
            if name in _OWN or name in registered:
                continue
            _check_name(name, [*parts, name])
            attributes.append([name, self._plain(value, [*parts, name], set())])
        entry["attributes"] = attributes
        return entry

    def _tensor(self, tensor, parts: list) -> int:
        """The position of a parameter or buffer in the tensor table, adding it the first time."""
        if type(tensor) not in (Tensor, Parameter):
            raise _refuse(parts, f"is {_kind(tensor)}, a subclass of Tensor",
                          "only Tensor and nn.Parameter can be restored")
        if tensor._hooks:
            raise _refuse(parts, f"has {len(tensor._hooks)} hook(s) registered with register_hook, which are "
                          "functions", "remove them (handle.remove()) before saving")
        index = self._tensor_index.get(id(tensor))
        if index is None:
            index = self._add_tensor(tensor, parts)
        return index

    def _add_tensor(self, tensor: Tensor, parts: list) -> int:
        """Store ``tensor``'s array and its entry in the tensor table; its position there."""
        index = self._tensor_index[id(tensor)] = len(self.tensors)
        self.tensors.append({"array": self.store_array(tensor, parts), "parameter": isinstance(tensor, Parameter),
                             "requires_grad": bool(tensor.requires_grad), "device": str(tensor.device)})
        return index

    def _plain(self, value, parts: list, open_containers: set):
        """The JSON of a plain attribute value; anything that is not plain data raises TypeError."""
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, Device):
            return {"device": str(value)}
        if isinstance(value, np.dtype) and value.kind in _NUMERIC + "c" and np.dtype(value.name) == value:
            return {"dtype": value.name}
        if backend.is_numpy_scalar(value) and value.dtype.kind in _NUMERIC:
            return {"scalar": self.store_array(value, parts)}
        if type(value) in (list, tuple, dict):
            if id(value) in open_containers:  # a cycle would recurse until RecursionError
                raise ValueError(f"save: {_show(parts)} contains itself; an attribute must be a tree, not a cycle")
            open_containers.add(id(value))
            try:
                if type(value) is dict:
                    return {"dict": [[self._key(key, parts), self._plain(item, [*parts, key], open_containers)]
                                     for key, item in value.items()]}
                tag = "tuple" if type(value) is tuple else "list"
                return {tag: [self._plain(item, [*parts, i], open_containers) for i, item in enumerate(value)]}
            finally:
                open_containers.discard(id(value))
        if isinstance(value, Module):
            raise _refuse(parts, f"is an nn.Module ({type(value).__name__}) that is not a registered submodule (it "
                          "sits in a plain list, tuple or dict), so parameters(), state_dict() and to() do not see it",
                          "hold such modules in nn.ModuleList or nn.ModuleDict")
        if isinstance(value, Tensor) or backend.is_array(value):
            what = "a Tensor" if isinstance(value, Tensor) else f"an array ({type(value).__name__})"
            raise _refuse(parts, f"is {what} that is not a registered parameter or buffer",
                          "register it with register_buffer (or make it an nn.Parameter), or delete it before saving")
        raise _refuse(parts, f"is {_kind(value)}, which a saved module cannot hold",
                      f"a module's attributes must be {_PLAIN} (its parameters, buffers and submodules are stored "
                      "on their own)")

    @staticmethod
    def _key(key, parts: list):
        if type(key) not in (str, int):  # JSON brings str and int keys back with their type; others would change
            raise _refuse(parts, f"has a dict key {key!r} of type {type(key).__name__}", "use str or int keys")
        return key


def _check_class(cls: type, parts: list) -> None:
    """Refuse a class that load could not find again by its module and qualified name."""
    name = f"{cls.__module__}.{cls.__qualname__}"
    if "<locals>" in cls.__qualname__:
        raise _refuse(parts, f"is an instance of {name}, a class defined inside a function, which load could "
                      "not find by name", "define the class at the top level of a module")
    if _lookup(sys.modules.get(cls.__module__), cls.__qualname__) is not cls:
        raise _refuse(parts, f"is an instance of {cls.__qualname__}, but {name} names another object or nothing (the "
                      "class was redefined or replaced after the model was made, or its module is not in "
                      "sys.modules), so load would not find this class", "make the model from the class its module "
                      "defines now")
    for klass in cls.__mro__:
        slots = getattr(klass, "__slots__", ())
        slots = (slots,) if isinstance(slots, str) else slots
        if klass.__dict__.get("__slots__") is not None and set(slots) - {"__dict__", "__weakref__"}:
            raise _refuse(parts, f"is an instance of {name}, whose class {klass.__qualname__} keeps attributes in "
                          "__slots__, which save does not read", "keep them as ordinary attributes")


def _check_name(name, parts: list) -> None:
    """Refuse an attribute name that load would refuse: dunder names (``__class__``) could change what the
    object is when set."""
    if not isinstance(name, str) or (name.startswith("__") and name.endswith("__")):
        raise _refuse(parts, f"has the attribute name {name!r}", "use names that are not __dunder__ names")


# ------------------------------------------------------------------ load
def read_tables(structure: dict, archive, device, weights_only, modules_required: bool) -> tuple[list, list]:
    """``(modules, tensors)``: the modules of ``structure["modules"]``, rebuilt, and the tensors of
    ``structure["tensors"]`` (theirs and the loose ones), read from ``archive`` onto ``device``, or with
    ``device=None`` onto the device each was saved from. ``modules_required``: the format version says the
    file holds a module (version 2); from version 3 on it may hold loose tensors only.

    Raises ``ValueError`` when ``weights_only`` refuses the file or a class cannot be found, and ``Corrupt``
    (which ``load`` reports as a damaged file) when the description is not what ``save`` writes.
    """
    entries, tensor_entries = structure["modules"], structure["tensors"]
    if not isinstance(entries, list) or (modules_required and not entries) or not isinstance(tensor_entries, list):
        raise Corrupt(f"{STRUCTURE} has module and tensor tables that are not lists")
    names = [_class_name(entry) for entry in entries]
    if weights_only and names:
        module_name, qualname = names[0]
        raise ValueError(
            f"load: the file holds a whole model (class {qualname} from module {module_name}), which "
            "weights_only=True refuses, as torch.load does; save the weights with tr.save(model.state_dict(), f) "
            "and load them with model.load_state_dict(tr.load(f)), or, if you trust the file, load it with "
            "weights_only=False"
        )
    classes = [_find_class(module_name, qualname, weights_only) for module_name, qualname in names]
    tensors = _read_tensors(tensor_entries, archive, device)
    modules = []
    for cls in classes:
        try:
            module = cls.__new__(cls)
            Module.__init__(module)  # the empty registries; the class's own __init__ is never called
        except Exception as error:
            raise ValueError(f"load: cannot make an instance of {cls.__module__}.{cls.__qualname__} "
                             f"({type(error).__name__}: {error})") from None
        modules.append(module)
    for module, entry in zip(modules, entries, strict=True):
        _fill(module, entry, modules, tensors, archive)
    return modules, tensors


def _class_name(entry) -> tuple:
    """The (module, qualified name) pair of a module's entry, checked."""
    if not isinstance(entry, dict) or set(entry) != _MODULE_KEYS:
        raise Corrupt(f"{STRUCTURE} has a module entry {entry!r:.80} without the keys {sorted(_MODULE_KEYS)}")
    name = entry["class"]
    if not (isinstance(name, list) and len(name) == 2 and all(isinstance(part, str) and part for part in name)):
        raise Corrupt(f"{STRUCTURE} has a module class {name!r:.80} that is not [module, qualified name]")
    return tuple(name)


def _find_class(module_name: str, qualname: str, weights_only) -> type:
    """The class ``qualname`` of module ``module_name``: imported only with ``weights_only=False``."""
    what = f"class {qualname} from module {module_name}"
    module = sys.modules.get(module_name)
    if module is None:
        if weights_only is not False:
            raise ValueError(
                f"load: the file holds a whole model of {what}, which is not imported; importing a module runs its "
                f"code, so load does not do it on its own: import {module_name} first, or pass weights_only=False "
                "if you trust the file"
            )
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise ValueError(f"load: the file holds a model of {what}, and importing {module_name} failed "
                             f"({error}); put its directory on sys.path") from None
    if "<locals>" in qualname:
        raise ValueError(f"load: the file names {what}, which cannot be looked up by name")
    cls = _lookup(module, qualname)
    if cls is None:
        hint = ("a class defined in a script run as __main__ is found only when that script loads it; define the "
                "model in a module of its own" if module_name == "__main__" else
                "was it renamed or moved since the model was saved?")
        raise ValueError(f"load: the file holds a model of {what}, but {module_name} has no {qualname} ({hint})")
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise ValueError(f"load: the file names {what} as a model, but {module_name}.{qualname} is "
                         f"{_kind(cls) if not isinstance(cls, type) else 'a class'} that is not a subclass of "
                         "tinygrad_rnn.nn.Module, so it is not rebuilt")
    return cls


def _read_tensors(entries: list, archive, device) -> list:
    """Every tensor of the table, read from the archive, on ``device`` or its saved device."""
    checked = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != _TENSOR_KEYS:
            raise Corrupt(f"{STRUCTURE} has a tensor entry {entry!r:.80} without the keys {sorted(_TENSOR_KEYS)}")
        if not (isinstance(entry["array"], str) and entry["array"] != STRUCTURE_ENTRY
                and isinstance(entry["parameter"], bool) and isinstance(entry["requires_grad"], bool)
                and isinstance(entry["device"], str)):
            raise Corrupt(f"{STRUCTURE} has a tensor entry {entry!r:.80} with fields of the wrong types")
        try:
            saved = backend.normalize_device(entry["device"])
        except ValueError:
            raise Corrupt(f"{STRUCTURE} has a tensor on an unknown device {entry['device']!r:.40}") from None
        checked.append((entry, device or saved))
    for where in sorted({where for _, where in checked} - {"cpu"}):
        try:
            backend.array_module(where)  # before reading anything: without CuPy, say so now
        except Exception as error:
            raise ValueError(f"load: the file's tensors were saved on {where}, which is not available here "
                             f"({error}); load it with map_location='cpu'") from None
    tensors = []
    for entry, where in checked:
        array = archive.array(entry["array"])
        if array.dtype.kind not in _NUMERIC or (entry["requires_grad"] and array.dtype.kind != "f"):
            raise Corrupt(f"member '{entry['array']}.npy' holds dtype {array.dtype}, which a tensor entry "
                          f"{'requiring grad ' if entry['requires_grad'] else ''}cannot have")
        tensor = from_numpy(array) if where == "cpu" else from_numpy(array).to(where)
        if entry["parameter"]:
            tensor = Parameter(tensor, requires_grad=entry["requires_grad"])
        else:
            tensor.requires_grad_(entry["requires_grad"])
        tensors.append(tensor)
    return tensors


def _fill(module: Module, entry: dict, modules: list, tensors: list, archive) -> None:
    """Set the registries, attributes and training flag of a new instance as ``entry`` says."""
    if not isinstance(entry["training"], bool):
        raise Corrupt(f"{STRUCTURE} has a module whose training flag {entry['training']!r:.40} is not a bool")
    cls = type(module)
    seen = set()
    values = []  # (registry or None, name, value), set once every name is checked
    for key, registry in (("attributes", None), *((key, value) for key, value in _REGISTRIES.items())):
        pairs = entry[key]
        if not isinstance(pairs, list):
            raise Corrupt(f"{STRUCTURE} has a module's {key} that is not a list")
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and pair[0]):
                raise Corrupt(f"{STRUCTURE} has a module {key} item {pair!r:.80} that is not a [name, value] pair")
            name, node = pair
            dunder = name.startswith("__") and name.endswith("__")  # __class__ would change what the object is
            if name in seen or name in _OWN or dunder or (registry is not None and "." in name):
                raise Corrupt(f"{STRUCTURE} has a module with the name {name!r:.40} twice or where it cannot be")
            seen.add(name)
            if registry is None:
                try:
                    value = _decode_plain(node, archive)
                except RecursionError:
                    raise Corrupt(f"{STRUCTURE} is nested too deeply") from None
            elif node is None:
                value = None
            else:
                table = modules if key == "children" else tensors
                if type(node) is not int or not 0 <= node < len(table):
                    raise Corrupt(f"{STRUCTURE} has a {key} reference {node!r:.40} outside its table")
                value = table[node]
                if key == "parameters" and type(value) is not Parameter:
                    raise Corrupt(f"{STRUCTURE} registers the plain tensor {node} as the parameter {name!r:.40}")
            values.append((registry, name, value))
    for registry, name, value in values:
        if registry is not None:
            getattr(module, registry)[name] = value
        try:
            object.__setattr__(module, name, value)  # Module.__setattr__ (or the class's own) is not run
        except (AttributeError, TypeError) as error:
            raise ValueError(f"load: cannot restore {cls.__module__}.{cls.__qualname__}.{name} ({error}); the class "
                             "has changed since the model was saved") from None
    object.__setattr__(module, "training", entry["training"])


def _decode_plain(node, archive):
    """The attribute value that the JSON ``node`` describes (the tags ``_plain`` writes, and no others)."""
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if not isinstance(node, dict) or len(node) != 1:
        raise Corrupt(f"{STRUCTURE} has an unexpected attribute value {node!r:.80}")
    tag, content = next(iter(node.items()))
    if tag in ("list", "tuple") and isinstance(content, list):
        items = [_decode_plain(item, archive) for item in content]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and isinstance(content, list):
        result = {}
        for pair in content:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str | int)) or pair[0] in result:
                raise Corrupt(f"{STRUCTURE} has a dict item {pair!r:.80} that is not a new [str or int key, value]")
            result[pair[0]] = _decode_plain(pair[1], archive)
        return result
    if tag == "device" and isinstance(content, str):
        try:
            return Device(content)
        except (TypeError, ValueError):
            raise Corrupt(f"{STRUCTURE} has an unknown device {content!r:.40}") from None
    if tag == "dtype" and isinstance(content, str):
        try:
            dtype = np.dtype(content)
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind not in _NUMERIC + "c" or dtype.name != content:
            raise Corrupt(f"{STRUCTURE} has an unknown dtype {content!r:.40}")
        return dtype
    if tag == "scalar" and isinstance(content, str) and content != STRUCTURE_ENTRY:
        array = archive.array(content)
        if array.ndim != 0 or array.dtype.kind not in _NUMERIC:
            raise Corrupt(f"member '{content}.npy' is a scalar attribute but has shape {array.shape}, {array.dtype}")
        return array[()]
    raise Corrupt(f"{STRUCTURE} has an unexpected attribute value {node!r:.80}")

