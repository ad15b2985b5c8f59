"""chainrule: gradient descent and back-propagation on NumPy, real, fast and visible.

>>> import chainrule as cr
>>> x = cr.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 4.])
"""

import importlib
import typing as _typing

import numpy as _np

from .autograd import (
    backward,
    detect_anomaly,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .creation import (
    arange,
    eye,
    from_numpy,
    full,
    get_default_dtype,
    linspace,
    ones,
    ones_like,
    rand,
    randn,
    set_default_dtype,
    tensor,
    zeros,
    zeros_like,
)
from .errors import (
    AnomalyError,
    BackwardError,
    ChainruleError,
    GradcheckError,
    ShapeError,
    UserError,
)
from .gradcheck import gradcheck, gradgradcheck
from .ops import EXPORTS as _EXPORTS
from .ops import OPS
from .tensor import Tensor

if _typing.TYPE_CHECKING:  # the op functions, named for type checkers (run time: EXPORTS)
    from .ops import (  # noqa: F401
        abs,
        add,
        astype,
        broadcast_to,
        clip,
        clone,
        concatenate,
        cos,
        div,
        exp,
        expand_dims,
        log,
        log_softmax,
        logsumexp,
        matmul,
        max,
        maximum,
        mean,
        min,
        minimum,
        mul,
        neg,
        pow,
        relu,
        reshape,
        sigmoid,
        sign,
        sin,
        softmax,
        sqrt,
        squeeze,
        stack,
        sub,
        sum,
        swapaxes,
        tan,
        tanh,
        transpose,
        unsqueeze,
        where,
    )
    from .ops import (
        clip as clamp,
    )
    from .ops import (
        concatenate as cat,
    )

float32 = _np.float32
float64 = _np.float64
int64 = _np.int64
bool_ = _np.bool_

__version__ = "0.1.0"

# every primitive's functions (cr.exp, cr.clamp, ...) as its defop in ops.py names them,
# and the composites built from them (cr.logsumexp, cr.squeeze, ...)
globals().update(_EXPORTS)

# Subpackages with optional dependencies or a heavier import are loaded on first use,
# so `import chainrule` stays fast and needs NumPy only.
_LAZY_SUBMODULES = ("nn", "optim", "data", "io", "viz", "explorer", "bench", "distributed")
_LAZY_NAMES = {"save": "io", "load": "io", "compile": "compiler"}


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
