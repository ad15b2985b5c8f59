"""chainrule: gradient descent and back-propagation on NumPy, real, fast and visible."""

import importlib

__version__ = "0.1.0"

# Subpackages with optional dependencies or a heavier import are loaded on first use,
# so `import chainrule` stays fast and needs NumPy only.
_LAZY_SUBMODULES = ("nn", "optim", "data", "io", "viz", "explorer", "bench")
_LAZY_NAMES = {"save": "io", "load": "io"}


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
