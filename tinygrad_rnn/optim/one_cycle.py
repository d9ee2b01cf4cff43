"""``OneCycleLR``: the one-cycle policy (warm up to ``max_lr``, anneal far below the start), stepped
once per batch, cycling the momentum (SGD's ``momentum``, Adam's β₁) the other way unless
``cycle_momentum=False``; PyTorch's algorithm and argument checks. ``lr_scheduler.py`` exports it."""

from __future__ import annotations

import math
import numbers

from .lr_scheduler import LRScheduler
from .optimizer import Optimizer


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin 2018), stepped once per *batch*: the lr climbs from
    ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of ``total_steps``, then
    anneals down to ``max_lr / (div_factor · final_div_factor)``. Each phase goes from ``a`` to ``b``
    with ``p`` the fraction of the phase done::

        anneal_strategy="cos":     a→b(p) = b + (a - b) / 2 · (1 + cos(π p))
        anneal_strategy="linear":  a→b(p) = a + (b - a) · p

    The phases end at steps ``pct_start · total_steps - 1`` and ``total_steps - 1``. With
    ``three_phase=True``: up to max_lr, back down to the initial lr by step
    ``2 · pct_start · total_steps - 2``, then down to the minimum at ``total_steps - 1``.
    Stepping more than ``total_steps`` times is an error. Give ``total_steps``, or ``epochs``
    and ``steps_per_epoch`` (total_steps = epochs · steps_per_epoch).

    ``cycle_momentum=True`` (the default) moves the momentum the other way, between
    ``max_momentum`` (at the lr's low points) and ``base_momentum`` (at max_lr): SGD's and RMSprop's
    ``"momentum"``, or β₁ of Adam's ``"betas"``. An optimizer with neither (Adagrad, LBFGS) needs
    ``cycle_momentum=False``. ``max_lr``, ``base_momentum`` and ``max_momentum`` are one number, or a
    list with one per parameter group; they are stored in the groups (``"max_lr"``, ``"min_lr"``,
    ``"initial_lr"``, ``"max_momentum"``, ``"base_momentum"``), as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: optimizer must be an Optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            if not _is_positive_int(total_steps):
                raise ValueError(f"OneCycleLR: invalid total_steps: expected a positive int, got {total_steps!r}")
            self.total_steps = int(total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not _is_positive_int(value):
                    raise ValueError(f"OneCycleLR: invalid {name}: expected a positive int, got {value!r}")
            self.total_steps = int(epochs) * int(steps_per_epoch)
        else:
            raise ValueError("OneCycleLR: the length of the cycle is missing: expected total_steps, or epochs "
                             f"and steps_per_epoch, got total_steps={total_steps!r}, epochs={epochs!r}, "
                             f"steps_per_epoch={steps_per_epoch!r}")
        if isinstance(pct_start, bool) or not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: invalid pct_start: expected a float in [0, 1] (the warm-up's share of "
                             f"the steps), got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: invalid anneal_strategy: expected 'cos' or 'linear', "
                             f"got {anneal_strategy!r}")
        up = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                {"end_step": up, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * self.total_steps) - 2, "start_lr": "max_lr",
                 "end_lr": "initial_lr", "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": self.total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]
        else:
            self._schedule_phases = [
                {"end_step": up, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": self.total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]
        self.anneal_strategy = anneal_strategy
        self.optimizer = optimizer
        max_lrs = _per_group("OneCycleLR", "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR: cycle_momentum=True expects an optimizer with a momentum or betas "
                                 f"(SGD, RMSprop, Adam, AdamW), got {type(optimizer).__name__}; "
                                 "pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group("OneCycleLR", "max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("OneCycleLR", "base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, high, low in zip(optimizer.param_groups, max_momentums, base_momentums):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list:
        """Every group's lr at step ``last_epoch`` (and, with cycle_momentum, its momentum, set here)."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, but total_steps is {self.total_steps}: "
                             "make total_steps (or epochs · steps_per_epoch) cover every step")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for position, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or position == len(self._schedule_phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        self._set_momentum(
                            group, self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct))
                    break
                start_step = end_step
        return lrs


def _is_positive_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral) and value > 0


def _per_group(scheduler: str, name: str, optimizer: Optimizer, value) -> list:
    """``value`` for every parameter group: a list with one per group, or one number for all."""
    groups = len(optimizer.param_groups)
    if isinstance(value, list | tuple):
        if len(value) != groups:
            raise ValueError(f"{scheduler}: invalid {name}: expected {groups} values (one per parameter group), "
                             f"got {len(value)}")
        return list(value)
    return [value] * groups
