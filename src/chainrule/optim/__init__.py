"""Optimizers and learning-rate schedules, with PyTorch's names and update rules.

Each ``step()`` changes the parameters' arrays in place with NumPy (nothing is recorded
in the graph) and bumps their version counters.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
