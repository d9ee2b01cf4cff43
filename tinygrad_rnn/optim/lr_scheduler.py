"""Learning-rate schedules: change each parameter group's ``"lr"`` once per epoch.

Usage, as in PyTorch::

    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)            # calls optimizer.step()
        scheduler.step()      # then the schedule moves on

Most schedules here are written in closed form: the lr at epoch t is a function of
t and the group's initial lr only, which is easy to read and to resume. ``ExponentialLR``
multiplies the current lr, as PyTorch's does, so the two agree bit for bit (``base · γᵗ``
rounds differently from t multiplications by γ). ``ReduceLROnPlateau`` follows a metric
instead of the epoch: ``scheduler.step(val_loss)``. ``OneCycleLR`` is stepped once per batch,
and also cycles the momentum (SGD's ``momentum``, Adam's β₁) unless ``cycle_momentum=False``.
"""

from __future__ import annotations

import bisect
import copy
import math
import numbers

from ..unsupported import module_getattr as _module_getattr
from .optimizer import Optimizer

__getattr__ = _module_getattr(__name__)  # a missing PyTorch name says what to use instead (unsupported.py)


class LRScheduler:
    """Base class: on construction and on each ``step()`` it sets every group's lr to ``get_lr()``.

    ``last_epoch`` counts the ``step()`` calls (0 right after construction, which
    applies the lr of epoch 0). Each group remembers its starting lr as
    ``group["initial_lr"]``; ``base_lrs`` lists them. To resume a run, pass the
    epoch reached as ``last_epoch`` (the groups must then hold ``"initial_lr"``),
    or use ``state_dict``/``load_state_dict``.
    """

    _not_saved = ("optimizer",)  # attributes left out of state_dict (objects, not data)
    _is_initial = False  # True during the step() made by the constructor

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: optimizer must be an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])  # a second scheduler keeps the first one's start
        else:
            for position, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"{type(self).__name__}: resuming with last_epoch={last_epoch} expects 'initial_lr' in "
                        f"param_groups[{position}] (a scheduler sets it); pass last_epoch=-1 to start afresh"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._is_initial = True  # a schedule that multiplies the current lr must not move it on construction
        try:
            self.step()
        finally:
            del self._is_initial  # back to the class's False, and out of state_dict

    def get_lr(self) -> list:
        """The lr of every group at epoch ``last_epoch`` (subclasses implement)."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr")

    def step(self) -> None:
        """Move to the next epoch and write its lr into every parameter group."""
        self.last_epoch += 1
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        """The lrs set by the last ``step()`` (or by construction), one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything the schedule needs to resume (numbers and lists), without the optimizer."""
        return {key: copy.deepcopy(value) for key, value in vars(self).items() if key not in self._not_saved}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a schedule saved by ``state_dict`` (it does not change the optimizer's lrs:
        load the optimizer's own state dict for those)."""
        self.__dict__.update(copy.deepcopy(state_dict))


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs::

        lr_t = base_lr · gamma ^ ⌊t / step_size⌋
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: invalid step_size: expected a positive int, got {step_size!r}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        """base_lr · gamma ^ ⌊last_epoch / step_size⌋ for every group."""
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each of the epochs in ``milestones``::

        lr_t = base_lr · gamma ^ (number of milestones ≤ t)

    A milestone listed twice counts twice, as in PyTorch (its ``Counter``).
    """

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        try:
            milestones = list(milestones)
        except TypeError as error:
            raise TypeError(f"MultiStepLR: invalid milestones: expected a list of epochs (ints), "
                            f"got {type(milestones).__name__}") from error
        for value in milestones:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"MultiStepLR: invalid milestones: expected ints (epochs), got {value!r}")
        self.milestones, self.gamma = sorted(int(m) for m in milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        """base_lr · gamma ^ (number of milestones ≤ last_epoch) for every group."""
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base_lr * self.gamma**passed for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """Scale the lr by ``factor`` for the first ``total_iters`` epochs, then restore it::

        lr_t = base_lr · factor     for t < total_iters
        lr_t = base_lr              for t ≥ total_iters
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1):
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: invalid factor: expected a number in [0, 1], got {factor!r}")
        if isinstance(total_iters, bool) or not isinstance(total_iters, numbers.Integral) or total_iters < 0:
            raise ValueError(f"ConstantLR: invalid total_iters: expected an int >= 0 (epochs), got {total_iters!r}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        """base_lr · factor before epoch ``total_iters``, base_lr from then on, for every group."""
        scale = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return [base_lr * scale for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Move the lr's factor linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    epochs (a linear warm-up with the defaults), then hold it::

        lr_t = base_lr · (start_factor + (end_factor - start_factor) · min(t, total_iters) / total_iters)
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if isinstance(start_factor, bool) or not isinstance(start_factor, numbers.Real) or not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: invalid start_factor: expected a number in (0, 1], got {start_factor!r}")
        if isinstance(end_factor, bool) or not isinstance(end_factor, numbers.Real) or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: invalid end_factor: expected a number in [0, 1], got {end_factor!r}")
        if isinstance(total_iters, bool) or not isinstance(total_iters, numbers.Integral) or total_iters < 1:
            raise ValueError(f"LinearLR: invalid total_iters: expected a positive int (epochs), got {total_iters!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        """base_lr · (start + (end - start) · min(last_epoch, total_iters) / total_iters) for every group."""
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        scale = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base_lr * scale for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the lr from its start down to ``eta_min`` along half a cosine over ``T_max`` epochs
    (SGDR without restarts, Loshchilov & Hutter 2017)::

        lr_t = eta_min + (base_lr - eta_min) · (1 + cos(π t / T_max)) / 2

    Past ``T_max`` the cosine goes on, so the lr climbs back up, as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):  # noqa: N803
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: invalid T_max: expected a positive number of epochs, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        """eta_min + (base_lr - eta_min) · (1 + cos(π · last_epoch / T_max)) / 2 for every group."""
        progress = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2  # 1 at t = 0, 0 at t = T_max
        return [self.eta_min + (base_lr - self.eta_min) * progress for base_lr in self.base_lrs]


class LambdaLR(LRScheduler):
    """The lr is the start lr times a function of the epoch you supply::

        lr_t = base_lr · lr_lambda(t)

    ``lr_lambda`` is one function, or a list with one per parameter group (e.g. a
    linear warm-up: ``lambda t: min(1.0, (t + 1) / 100)``). The functions are not
    part of ``state_dict``: pass them again when you rebuild the scheduler.
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"LambdaLR: optimizer must be an Optimizer, got {type(optimizer).__name__}")
        groups = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, list | tuple) else [lr_lambda] * groups
        if len(lambdas) != groups:
            raise ValueError(f"LambdaLR: expected {groups} lr_lambda functions (one per group), got {len(lambdas)}")
        for position, function in enumerate(lambdas):
            if not callable(function):
                raise TypeError(f"LambdaLR: lr_lambda[{position}] must be callable, got {type(function).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        """base_lr · lr_lambda(last_epoch) for every group."""
        return [base_lr * function(self.last_epoch) for base_lr, function in zip(self.base_lrs, self.lr_lambdas)]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch::

        lr_t = lr_{t-1} · gamma        (so lr_t = base_lr · gammaᵗ, up to rounding)

    Like PyTorch's, it multiplies the group's *current* lr (the product is rounded at each
    step, exactly as there), so an lr changed by hand between steps decays from its new value,
    and resuming with ``last_epoch`` keeps the lr the groups hold.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not gamma > 0:
            raise ValueError(f"ExponentialLR: invalid gamma: expected a number > 0, got {gamma!r}")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        """Every group's current lr times gamma (unchanged by the constructor's own step)."""
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class ReduceLROnPlateau(LRScheduler):
    """Cut the lr by ``factor`` when a metric has stopped improving, as ``torch.optim.lr_scheduler.ReduceLROnPlateau``::

        scheduler = ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=3)
        for epoch in range(100):
            train(...)
            scheduler.step(validation_loss)

    Each ``step(metrics)`` compares the metric with the best so far. It counts as better when

        mode="min", threshold_mode="rel":   metric < best · (1 - threshold)
        mode="min", threshold_mode="abs":   metric < best - threshold
        mode="max", threshold_mode="rel":   metric > best · (1 + threshold)
        mode="max", threshold_mode="abs":   metric > best + threshold

    (the threshold ignores improvements too small to matter). After more than ``patience``
    epochs in a row without improvement, every group's lr becomes ``max(lr · factor, min_lr)``
    (skipped when that changes it by ``eps`` or less), then ``cooldown`` epochs pass in
    which bad epochs are not counted. ``min_lr`` is one number, or a list with one per group.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr=0,
                 eps: float = 1e-8):
        # No LRScheduler.__init__: this schedule follows a metric, not the epoch (no initial_lr, no base_lrs).
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: optimizer must be an Optimizer, got {type(optimizer).__name__}")
        if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: invalid factor: expected 0 <= factor < 1 (new_lr = lr · factor), "
                             f"got {factor!r}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"ReduceLROnPlateau: invalid {name}: expected an int >= 0 (epochs), got {value!r}")
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, list | tuple):
            if len(min_lr) != groups:
                raise ValueError(f"ReduceLROnPlateau: invalid min_lr: expected {groups} values (one per parameter "
                                 f"group), got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * groups
        for position, value in enumerate(self.min_lrs):
            if not value >= 0:
                raise ValueError(f"ReduceLROnPlateau: invalid min_lr: expected values >= 0, got {value!r} "
                                 f"(group {position})")
        if not eps >= 0:
            raise ValueError(f"ReduceLROnPlateau: invalid eps: expected eps >= 0, got {eps!r}")
        self.optimizer = optimizer
        self.factor, self.patience, self.cooldown, self.eps = factor, patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._set_comparison(mode, threshold, threshold_mode)
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _set_comparison(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: invalid mode: expected 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: invalid threshold_mode: expected 'rel' or 'abs', got {threshold_mode!r}"
            )
        if not threshold >= 0:
            raise ValueError(f"ReduceLROnPlateau: invalid threshold: expected threshold >= 0, got {threshold!r}")
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf  # the start of "best": anything beats it

    @property
    def in_cooldown(self) -> bool:
        """Whether the schedule is still resting after a cut (bad epochs are not counted then)."""
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        """Whether the metric value ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else a > best + self.threshold

    def get_lr(self) -> list:
        """Not a function of the epoch: the lrs change only in ``step(metrics)``."""
        raise NotImplementedError("ReduceLROnPlateau has no get_lr: its lrs follow the metric given to "
                                  "step(metrics); read them with get_last_lr()")

    def step(self, metrics=None) -> None:
        """Record one epoch's metric (a number or a one-element tensor) and cut the lrs if it has
        not improved for more than ``patience`` epochs."""
        if metrics is None:
            raise TypeError("ReduceLROnPlateau.step: metrics is required: expected the monitored value "
                            "(e.g. the validation loss), got None")
        try:
            current = float(metrics)
        except (TypeError, ValueError) as error:
            raise TypeError(f"ReduceLROnPlateau.step: invalid metrics: expected a number or a one-element tensor, "
                            f"got {type(metrics).__name__}") from error
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:  # NaN lands here: it never counts as an improvement
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # epochs in cooldown do not count against the new lr
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):  # a group was added since construction
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups, min_lr was given for "
                    f"{len(self.min_lrs)}; set scheduler.min_lrs to a list with one value per group"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:  # a cut too small to matter (at min_lr already) is skipped
                group["lr"] = new_lr

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a schedule saved by ``state_dict``, checking its mode and thresholds again."""
        super().load_state_dict(state_dict)
        self._set_comparison(self.mode, self.threshold, self.threshold_mode)


# Last: one_cycle.py builds on LRScheduler above.
from .one_cycle import OneCycleLR  # noqa: E402,F401 (exported here, as in PyTorch)
