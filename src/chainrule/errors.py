"""Exceptions with messages that say what was wrong and what to do."""


class ChainruleError(Exception):
    """Base class of chainrule's own errors."""


class ShapeError(ChainruleError, ValueError):
    """Operands whose shapes do not fit the op; the message names the op and the shapes."""


class BackwardError(ChainruleError, RuntimeError):
    """A backward pass that cannot run (freed graph, non-scalar output, in-place change...)."""


class AnomalyError(ChainruleError, FloatingPointError):
    """Raised inside ``cr.detect_anomaly()`` by the first op producing NaN or Inf."""


class GradcheckError(ChainruleError, AssertionError):
    """Analytical and numerical gradients disagree; names the input, element and values."""


class UserError(ChainruleError, ValueError):
    """Bad input from a user of the command line or the explorer (shown without traceback)."""


class StateDictError(ChainruleError, ValueError):
    """A state dict that does not fit its module or optimizer (missing, extra or mis-shaped
    entries, or hyper-parameters out of range); ``cr.nn.StateDictError`` is this class."""
