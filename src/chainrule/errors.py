"""Exceptions with messages that say what was wrong and what to do."""


class ChainruleError(Exception):
    """Base class of chainrule's own errors.

    Examples
    --------
    >>> try:
    ...     cr.ones(2, 3) @ cr.ones(2, 3)
    ... except cr.ChainruleError as e:       # catches every error chainrule raises on purpose
    ...     print(type(e).__name__)
    ShapeError
    """


class ShapeError(ChainruleError, ValueError):
    """Operands whose shapes do not fit the op; the message names the op and the shapes.

    Examples
    --------
    >>> cr.ones(2, 3) @ cr.ones(2, 3)
    Traceback (most recent call last):
        ...
    chainrule.errors.ShapeError: matmul: cannot apply to input shapes (2, 3) and (2, 3): ...
    """


class BackwardError(ChainruleError, RuntimeError):
    """A backward pass that cannot run (freed graph, non-scalar output, in-place change...).

    Examples
    --------
    >>> x = cr.tensor(1.0, requires_grad=True)
    >>> y = x * x
    >>> y.backward()
    >>> y.backward()
    Traceback (most recent call last):
        ...
    chainrule.errors.BackwardError: trying to back-propagate through the graph a second time ...
    """


class AnomalyError(ChainruleError, FloatingPointError):
    """Raised inside ``cr.detect_anomaly()`` by the first op producing NaN or Inf.

    Examples
    --------
    >>> x = cr.tensor(-1.0, requires_grad=True)
    >>> with cr.detect_anomaly(), np.errstate(all="ignore"):
    ...     cr.log(x)
    Traceback (most recent call last):
        ...
    chainrule.errors.AnomalyError: forward of 'log' produced NaN or Inf (output shape ()), ...
    """


class GradcheckError(ChainruleError, AssertionError):
    """Analytical and numerical gradients disagree; names the input, element and values.

    Examples
    --------
    >>> def wrong(a):                          # a "gradient" that misses a factor 2
    ...     return cr.tensor(a.numpy()) * a    # the first factor is treated as a constant
    >>> cr.gradcheck(lambda a: wrong(a), [cr.tensor([1.0], requires_grad=True)])
    Traceback (most recent call last):
        ...
    chainrule.errors.GradcheckError: gradcheck: ... analytical 1 vs numerical 2 ...
    """


class UserError(ChainruleError, ValueError):
    """Bad input from a user of the command line or the explorer (shown without traceback).

    Examples
    --------
    >>> isinstance(cr.UserError("bad row"), ValueError)   # a ValueError, shown without traceback
    True
    """


class StateDictError(ChainruleError, ValueError):
    """A state dict that does not fit its module or optimizer (missing, extra or mis-shaped
    entries, or hyper-parameters out of range); ``cr.nn.StateDictError`` is this class.

    Examples
    --------
    >>> cr.nn.Linear(2, 1).load_state_dict({"weight": np.zeros((3, 3)), "bias": np.zeros(1)})
    Traceback (most recent call last):
        ...
    chainrule.errors.StateDictError: Linear.load_state_dict: 'weight' has shape (3, 3) ...
    """
