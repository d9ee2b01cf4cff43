"""The ``Optimizer`` base class: parameter groups, per-parameter state, ``step``,
``zero_grad`` and a ``state_dict`` made of Tensors and Python numbers, as PyTorch's.

An optimizer holds *references* to the parameters and changes their values in
place (``p.array -= ...``), so a model and its optimizer always see the same
tensors. Each subclass writes one method, ``_update_parameter``, that applies its
update rule to one parameter; everything shared (looping over groups, skipping
parameters without a gradient, no graph recording, the version counter, saving
and loading) lives here, once.

State arrays (momentum buffers, moment estimates) are raw arrays of the
parameter's array module (``p.xp``: NumPy or CuPy), on the parameter's device and
with its dtype, under the same names PyTorch uses (``"momentum_buffer"``,
``"exp_avg"``, ...); ``state_dict()`` hands out copies of them as Tensors.
"""

from __future__ import annotations

from ..autograd import clear_grad, enable_grad, no_grad
from ..backend import device_of, is_array, is_numpy_scalar, to_device
from ..tensor import Tensor


# ---------------------------------------------------------------- argument checks
def check_nonnegative(owner: str, name: str, value) -> None:
    """Raise ValueError naming ``name`` unless ``value >= 0`` (lr, eps, momentum, ...)."""
    if not value >= 0:  # written this way so that NaN fails too
        raise ValueError(f"{owner}: invalid {name}: expected {name} >= 0, got {value!r}")


def check_betas(owner: str, betas) -> None:
    """Raise ValueError unless ``betas`` is a pair of numbers in [0, 1)."""
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        raise ValueError(f"{owner}: invalid betas: expected a pair (beta1, beta2), got {betas!r}")
    for position, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"{owner}: invalid betas[{position}]: expected a value in [0, 1), got {beta!r}")


def new_state_array(p: Tensor, value):
    """A fresh array holding ``value``, with ``p``'s array module and dtype: how an optimizer
    should start a state entry (a momentum buffer, ...) from a gradient-derived value.

    Not ``value.copy()``: NumPy's arithmetic on 0-d arrays (a scalar parameter's ``-grad`` or
    ``grad + weight_decay * p``) returns NumPy *scalars*, whose copy is again a scalar. A
    scalar has no in-place update, so ``buffer *= momentum`` would rebind a local name and the
    stored state would silently stop changing.
    """
    return p.xp.array(value, dtype=p.dtype, copy=True)


# ---------------------------------------------------------------- conversions for state_dict
def _to_saved(value):
    """A copy of ``value`` for ``state_dict``: arrays (and tensors) become detached Tensors with
    memory of their own, on the same device and with the same dtype (PyTorch's optimizer state holds
    tensors, so ``v.clone()``, ``v.to(device)``, ``tr.save`` work on them); NumPy scalars become Python
    numbers; tuples become lists, so the hyperparameters also survive JSON."""
    if isinstance(value, Tensor):
        value = value.array
    if is_numpy_scalar(value):
        return value.item()
    if hasattr(value, "shape") and hasattr(value, "dtype"):  # an array of any backend (NumPy, CuPy, strict)
        return Tensor._wrap(value.copy())
    if isinstance(value, tuple | list):
        return [_to_saved(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_saved(v) for k, v in value.items()}
    return value


def _hyperparameter_from(saved, current):
    """A saved hyperparameter back in its Python form (``betas`` was a tuple, saved as a list)."""
    if is_numpy_scalar(saved):
        return saved.item()
    if isinstance(saved, list) and isinstance(current, tuple):
        return tuple(_hyperparameter_from(v, None) for v in saved)
    return saved


# ---------------------------------------------------------------- the base class
class Optimizer:
    """Base class of optimizers: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors, or of dicts (parameter groups) such as
    ``[{"params": encoder.parameters()}, {"params": head.parameters(), "lr": 1e-2}]``;
    a group's own hyperparameters win over ``defaults``. After construction:

    - ``param_groups``: list of dicts, each with ``"params"`` (a list of tensors) and
      every hyperparameter (``"lr"``, ...); schedulers change ``group["lr"]`` here;
    - ``state``: dict from parameter (tensors hash by identity) to its dict of state.

    Subclasses implement ``_update_parameter(p, grad, state, group)`` and, to
    validate hyperparameters, ``_check_group(group)``.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self._check_group(self.defaults)  # a bad default names its argument before anything else
        self.state: dict = {}
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):  # a common slip: optim.SGD(w) instead of optim.SGD([w])
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of tensors or of dicts, got a single "
                f"Tensor of shape {params.shape}; wrap it in a list: [tensor]"
            )
        params = list(params)
        if not params:
            raise ValueError(
                f"{type(self).__name__}: params is empty: expected at least one tensor to optimize "
                "(did model.parameters() get used up by an earlier call?)"
            )
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def _check_group(self, group: dict) -> None:
        """Raise ValueError for an invalid hyperparameter in ``group`` (subclasses extend)."""
        if "lr" in group:
            check_nonnegative(type(self).__name__, "lr", group["lr"])

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own hyperparameters (the rest from ``defaults``);
        useful to unfreeze layers during fine-tuning."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry, got keys {sorted(param_group)}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError(f"{name}: a group's params must be an ordered collection, got a set (order would vary)")
        params = [params] if isinstance(params, Tensor) else list(params)
        for position, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: params[{position}] must be a Tensor, got {type(p).__name__}")
            if p.dtype.kind != "f":  # the update is fractional: it has no meaning for integers
                raise TypeError(f"{name}: params[{position}] must be floating point, got dtype {p.dtype}")
            if not p.is_leaf:
                raise ValueError(
                    f"{name}: params[{position}] (shape {p.shape}) is not a leaf tensor: an op made it, so it "
                    "cannot be optimized; optimize the tensor it was computed from, or .detach() it"
                )
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group lists the same tensor more than once")
        known = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in known for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: to None (the default, frees memory and lets
        ``step`` skip the parameter), or to zeros, in place as PyTorch (``autograd.clear_grad``)."""
        for group in self.param_groups:
            for p in group["params"]:
                clear_grad(p, set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient, by the optimizer's rule.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs
        with gradients on, before the update, and its loss is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():  # an update is not part of any model: record no graph
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:  # unused in this loss, or frozen: leave it alone
                        continue
                    if p.grad.shape != p.shape:
                        raise ValueError(
                            f"{type(self).__name__}: a parameter of shape {p.shape} has a gradient of "
                            f"shape {p.grad.shape}; they must match"
                        )
                    state = self.state.setdefault(p, {})
                    _follow_parameter(state, p)
                    self._update_parameter(p, p.grad.array, state, group)
                    # The values changed in place: a graph that saved the old ones must now refuse backward.
                    p._bump_version()
        return loss

    def _update_parameter(self, p: Tensor, grad, state: dict, group: dict) -> None:
        """Apply the update rule to ``p.array`` in place, given its gradient array ``grad``,
        its ``state`` dict (empty on the first step) and its ``group``'s hyperparameters."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update_parameter")

    # ------------------------------------------------------------ saving and loading
    def state_dict(self) -> dict:
        """The optimizer's state, as in PyTorch::

            {"state": {0: {"step": 3, "exp_avg": Tensor, ...}, ...},
             "param_groups": [{"lr": 0.001, ..., "params": [0, 1, 2]}, ...]}

        Parameters are numbered across groups in order. State arrays come as Tensors (detached,
        on the parameter's device, with its dtype), numbers as Python numbers, so ``tr.save``
        writes it without pickle. Two differences from PyTorch, on purpose: the tensors are
        copies, so the dict is a snapshot that later steps do not change (PyTorch's holds the
        optimizer's own tensors, which is why scripts ``copy.deepcopy`` it; that still works);
        and ``"step"`` is a Python int (PyTorch's Adam, RMSprop and Adagrad keep a 0-d float tensor).
        """
        index: dict = {}  # parameter -> its number
        groups = []
        for group in self.param_groups:
            saved = {key: _to_saved(value) for key, value in group.items() if key != "params"}
            saved["params"] = [index.setdefault(p, len(index)) for p in group["params"]]
            groups.append(saved)
        state = {index[p]: _to_saved(s) for p, s in self.state.items() if s and p in index}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (as it gives them, as ``tr.load``
        gives them back, or with NumPy arrays or, after JSON, nested lists). Values are copied: tensors
        and arrays go to each parameter's device, floating ones to its dtype. The groups must match this
        optimizer's: same number of groups and of parameters in each."""
        name = type(self).__name__
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter group(s), "
                f"this optimizer has {len(self.param_groups)}"
            )
        by_index = {}
        new_groups = []
        for position, (saved, own) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {position} has {len(saved['params'])} parameter(s) "
                    f"in the state dict, {len(own['params'])} in this optimizer"
                )
            by_index.update(zip((int(i) for i in saved["params"]), own["params"]))
            group = dict(own)  # a hyperparameter the file lacks (saved by an older version) keeps its value
            group.update({k: _hyperparameter_from(v, own.get(k)) for k, v in saved.items() if k != "params"})
            self._check_group(group)
            new_groups.append(group)
        new_state = {}
        for index, entries in saved_state.items():
            if int(index) not in by_index:  # JSON turns the int keys into strings: int() takes both
                raise ValueError(f"{name}.load_state_dict: state for parameter {index}, which no group lists")
            p = by_index[int(index)]
            new_state[p] = {
                key: self._restored_entry(key, value, p, f"state[{index}][{key!r}]") for key, value in entries.items()
            }
        # Everything checked: commit. Groups are updated in place, so references to them stay valid.
        for own, group in zip(self.param_groups, new_groups):
            own.clear()
            own.update(group)
        self.state = new_state

    def _restored_entry(self, key: str, value, p: Tensor, where: str):
        """The saved state entry ``key`` of ``p``, as the optimizer keeps it. Here every entry is a number or an
        array shaped like ``p``; an optimizer whose state is shaped otherwise (LBFGS) overrides this."""
        return self._restored(value, p, where)

    def _restored(self, value, p: Tensor, where: str):
        """One saved state value, as the optimizer keeps it: a number, or an array like ``p``'s."""
        if isinstance(value, Tensor):
            value = value.array
        # An array that went through JSON: tolist() makes nested lists, or a bare float of a 0-d array (a 0-d
        # parameter's state; kept as a number, ``buffer *= momentum`` would stop updating the state). No
        # optimizer keeps a float number in its state (the step is an int), so a float here is such an array.
        zero_d_array = p.ndim == 0 and (isinstance(value, float) or is_numpy_scalar(value) and value.dtype.kind == "f")
        if isinstance(value, list) or zero_d_array:
            value = p.xp.asarray(value)
        if is_numpy_scalar(value):
            return value.item()
        if not is_array(value):
            return value
        if value.shape != p.shape:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: {where} has shape {value.shape}, "
                f"expected {p.shape} (its parameter's)"
            )
        dtype = p.dtype if value.dtype.kind == "f" else value.dtype
        return to_device(value, p.device).astype(dtype, copy=True)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for position, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {position}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params"]
        return "\n".join(lines) + "\n)"


def _follow_parameter(state: dict, p: Tensor) -> None:
    """Keep a parameter's state arrays in its dtype and on its device, so that ``model.double()``
    or ``model.to("cuda")`` after some steps neither loses precision nor mixes devices."""
    for name, value in state.items():
        if is_array(value) and (value.dtype != p.dtype or device_of(value) != p.device):
            state[name] = to_device(value, p.device).astype(p.dtype)
