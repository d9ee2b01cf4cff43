"""Learning-rate schedules: change each parameter group's ``"lr"`` once per epoch.

Usage, as in PyTorch::

    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)            # calls optimizer.step()
        scheduler.step()      # then the schedule moves on

The schedules here are written in closed form: the lr at epoch t is a function of
t and the group's initial lr only, which is easy to read and to resume.
"""

from __future__ import annotations

import copy
import math

from .optimizer import Optimizer


class LRScheduler:
    """Base class: on construction and on each ``step()`` it sets every group's lr to ``get_lr()``.

    ``last_epoch`` counts the ``step()`` calls (0 right after construction, which
    applies the lr of epoch 0). Each group remembers its starting lr as
    ``group["initial_lr"]``; ``base_lrs`` lists them. To resume a run, pass the
    epoch reached as ``last_epoch`` (the groups must then hold ``"initial_lr"``),
    or use ``state_dict``/``load_state_dict``.
    """

    _not_saved = ("optimizer",)  # attributes left out of state_dict (objects, not data)

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
        self.step()

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
