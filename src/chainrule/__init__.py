"""chainrule: gradient descent and back-propagation on NumPy, real, fast and visible."""

__version__ = "0.1.0"
