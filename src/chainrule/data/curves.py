"""The four regression problems of Bishop, PRML (2006), §5.3, Figure 5.3."""

from __future__ import annotations

import numpy as np

#: Names of the four problems, in the order of the figure's panels.
FIGURE_5_3 = ("square", "sin", "abs", "step")

#: A human label for each problem, for titles and tables.
FIGURE_5_3_LABELS = {"square": "x²", "sin": "sin(πx)", "abs": "|x|", "step": "H(x)"}

_TARGETS = {
    "square": lambda x: x**2,
    "sin": lambda x: np.sin(np.pi * x),
    "abs": np.abs,
    "step": lambda x: np.heaviside(x, 1.0),
}


def figure_5_3(name, n=50, seed=0, dtype=np.float64):
    """One of the four data sets of Figure 5.3: ``n`` points, x uniform in [−1, 1].

    Parameters
    ----------
    name : {"square", "sin", "abs", "step"}
        The target function: x², sin(πx), |x| or the Heaviside step H(x)
        (1 for x ≥ 0, else 0).
    n : int, default 50
        Number of points (the text uses 50).
    seed : int, default 0
        Seed of the generator drawing x; the same seed gives the same points.
    dtype : numpy dtype, default float64
        Floating dtype of the returned arrays.

    Returns
    -------
    x, t : ndarray of shape (n, 1)
        Inputs in ascending order, and their targets.

    Examples
    --------
    >>> x, t = cr.data.figure_5_3("sin")
    >>> x.shape, t.shape, bool(np.allclose(t, np.sin(np.pi * x)))
    ((50, 1), (50, 1), True)
    >>> cr.data.FIGURE_5_3
    ('square', 'sin', 'abs', 'step')
    """
    if name not in _TARGETS:
        raise ValueError(
            f"unknown Figure 5.3 problem {name!r}; valid names: {', '.join(FIGURE_5_3)}"
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype, got {dtype}")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1.0, 1.0, size=int(n))).astype(dtype).reshape(-1, 1)
    t = _TARGETS[name](x).astype(dtype, copy=False)
    return x, t
