"""What the options of an optimizer or a schedule may be: one table per option set.

Each optimizer and scheduler declares ``OPTIONS = {name: rule}``, and one function,
:func:`check`, applies it wherever values come in (constructors, ``add_param_group``,
``load_state_dict``). The ranges are PyTorch's (``lr ≥ 0``, ``0 ≤ β < 1``, ``ε ≥ 0``, ...);
stricter in one way: NaN and infinite values are refused everywhere, since one step with
``lr=nan`` turns every weight into NaN.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


class Invalid(Exception):
    """Raised by a rule with the reason; :func:`check` turns it into the caller's error."""


class Real:
    """A finite real number (not a bool) in an interval; ``integer=True`` for whole numbers."""

    def __init__(self, low=-math.inf, high=math.inf, *, open_low=False, open_high=False,
                 integer=False):
        self.low, self.high, self.open_low, self.open_high = low, high, open_low, open_high
        self.integer = integer
        kind = "an integer" if integer else "a finite number"
        if low > -math.inf and high < math.inf:
            interval = f"{'(' if open_low else '['}{low:g}, {high:g}{')' if open_high else ']'}"
            self.what = f"{kind} in {interval}"
        elif low > -math.inf:
            self.what = f"{kind} {'>' if open_low else '>='} {low:g}"
        elif high < math.inf:
            self.what = f"{kind} {'<' if open_high else '<='} {high:g}"
        else:
            self.what = kind

    def clean(self, value, name):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise Invalid(f"must be {self.what}")
        try:
            x = float(value)
        except OverflowError:  # an int beyond float's range
            x = math.inf
        if (
            not math.isfinite(x)
            or x < self.low
            or x > self.high
            or (self.open_low and x == self.low)
            or (self.open_high and x == self.high)
            or (self.integer and x != math.floor(x))
        ):
            raise Invalid(f"must be {self.what}")
        return int(value) if self.integer else value


class Items:
    """A list (or, with ``length=2``, a pair) of values each following ``rule``.

    Comes back as a list, or as a tuple for a fixed length (Adam's ``betas``).
    """

    def __init__(self, rule, length=None):
        self.rule, self.length = rule, length

    def clean(self, value, name):
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if not isinstance(value, (list, tuple)) or (
            self.length is not None and len(value) != self.length
        ):
            count = "a list" if self.length is None else f"{self.length} values"
            raise Invalid(f"must be {count}, each {self.rule.what}")
        out = []
        for i, v in enumerate(value):
            try:
                out.append(self.rule.clean(v, f"{name}[{i}]"))
            except Invalid as e:
                raise Invalid(f"{name}[{i}] {e}") from None
        return out if self.length is None else tuple(out)


class Flag:
    """True or False (1 and 0 are taken for them); comes back as a bool."""

    def clean(self, value, name):
        if isinstance(value, (bool, np.bool_)) or (
            isinstance(value, numbers.Integral) and value in (0, 1)
        ):
            return bool(value)
        raise Invalid("must be True or False")


NONNEGATIVE = Real(0.0)
FINITE = Real()
FLAG = Flag()
BETAS = Items(Real(0.0, 1.0, open_high=True), length=2)


def check(options, values, where, error=ValueError):
    """``values`` with each entry named in the table ``options`` checked and cleaned.

    Raises ``error`` naming ``where`` (e.g. ``"Adam: parameter group 1"``), the option and
    its value; entries the table does not name pass unchanged.
    """
    out = dict(values)
    for name, rule in options.items():
        if name in values:
            try:
                out[name] = rule.clean(values[name], name)
            except Invalid as e:
                raise error(f"{where}: invalid {name}={values[name]!r}: {e}") from None
    return out
