"""Neural networks: modules, layers, losses and initialisation, with PyTorch's names.

>>> import chainrule as cr
>>> net = cr.nn.Sequential(cr.nn.Linear(1, 3), cr.nn.Tanh(), cr.nn.Linear(3, 1))
"""

from . import functional, init, parallel, utils
from .layers import ACTIVATIONS, Linear, ReLU, Sigmoid, Softmax, Tanh
from .module import Module, Parameter, Sequential, StateDictError

__all__ = [
    "ACTIVATIONS",
    "Linear",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "StateDictError",
    "Tanh",
    "functional",
    "init",
    "parallel",
    "utils",
]
