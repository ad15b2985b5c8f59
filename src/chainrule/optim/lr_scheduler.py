"""Learning-rate schedules: call ``scheduler.step()`` once per epoch, after ``opt.step()``."""

from __future__ import annotations

import math

from ..errors import StateDictError
from .optimizer import Optimizer, _scalar
from .options import FINITE, NONNEGATIVE, Items, Real, check


class LRScheduler:
    """Base class: sets each group's ``lr`` from its ``initial_lr`` and the epoch count.

    Subclasses define ``lr_at(base_lr, epoch)``, a closed form of the schedule, set their
    options as attributes before calling ``super().__init__`` and name their rules in
    ``OPTIONS`` (see :mod:`chainrule.optim.options`); the constructor and
    :meth:`load_state_dict` check them.

    Examples
    --------
    >>> opt = cr.optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=0.1)
    >>> sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> isinstance(sched, cr.optim.lr_scheduler.LRScheduler), sched.state_dict() is not None
    (True, True)
    """

    OPTIONS: dict[str, object] = {"last_epoch": Real(-1, integer=True),
                                  "base_lrs": Items(NONNEGATIVE)}
    last_epoch: int  # set from the checked options in __init__

    def __init__(self, optimizer, last_epoch=-1):
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name} needs an Optimizer, got {type(optimizer).__name__}")
        options = {k: v for k, v in vars(self).items() if k in self.OPTIONS}
        vars(self).update(check(self.OPTIONS, {**options, "last_epoch": last_epoch}, name))
        self.optimizer = optimizer
        for g in optimizer.param_groups:
            if self.last_epoch == -1:
                g.setdefault("initial_lr", g["lr"])
            elif "initial_lr" not in g:
                raise KeyError(
                    f"{name}: resuming at last_epoch={self.last_epoch} needs "
                    "'initial_lr' in every parameter group"
                )
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.step()

    def lr_at(self, base_lr, epoch):
        raise NotImplementedError

    def step(self):
        """Advance one epoch and set the new learning rates."""
        self.last_epoch += 1
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(base, self.last_epoch)

    def get_last_lr(self):
        """The learning rate of each group after the latest ``step()``."""
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (plain numbers; works with ``cr.save``)."""
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what :meth:`state_dict` returned (its options checked as the constructor
        checks them)."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise StateDictError(f"{name}: expected a dict, got {type(state_dict).__name__}")
        unknown = set(state_dict) - set(self.state_dict())
        if unknown:
            raise StateDictError(f"{name}: unknown entries {sorted(map(str, unknown))}")
        values = check(self.OPTIONS, {k: _scalar(v) for k, v in state_dict.items()}, name,
                       StateDictError)
        lrs = values.get("base_lrs", self.base_lrs)
        if len(lrs) != len(self.optimizer.param_groups):
            raise StateDictError(
                f"{name}: {len(lrs)} base learning rate(s) for "
                f"{len(self.optimizer.param_groups)} parameter group(s)"
            )
        vars(self).update(values)


class StepLR(LRScheduler):
    """``η · γ^⌊epoch / step_size⌋``: multiply by ``gamma`` every ``step_size`` epochs.

    Examples
    --------
    >>> opt = cr.optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=0.1)
    >>> sched = cr.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     opt.step()                   # the epoch's training steps
    ...     sched.step()
    ...     lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [0.1, 0.05, 0.05, 0.025, 0.025]
    """

    OPTIONS = {**LRScheduler.OPTIONS, "step_size": Real(1, integer=True), "gamma": FINITE}

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """``η · γ^epoch``.

    Examples
    --------
    >>> opt = cr.optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> sched = cr.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    >>> sched.step(); sched.step()
    >>> sched.get_last_lr()
    [0.25]
    """

    OPTIONS = {**LRScheduler.OPTIONS, "gamma": FINITE}

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """``η_min + (η − η_min) · (1 + cos(π · epoch / T_max)) / 2`` (Loshchilov & Hutter 2017,
    without restarts).

    Examples
    --------
    >>> opt = cr.optim.SGD([cr.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    >>> sched.step(); sched.step()       # halfway: (1 + cos(π/2)) / 2
    >>> sched.get_last_lr()
    [0.5]
    """

    OPTIONS = {**LRScheduler.OPTIONS, "T_max": Real(0, open_low=True), "eta_min": FINITE}

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        cos = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cos
