"""The 8×8 handwritten digits that scikit-learn ships inside its wheel (no download)."""

from __future__ import annotations

import numpy as np

from .._extras import require
from .loader import split_indices


def load_digits(test_fraction=0.25, seed=0, dtype=np.float32):
    """The 1,797 8×8 digit images, split into training and test sets, stratified by class.

    Needs the ``data`` extra (scikit-learn), which reads the data from a file inside its
    own package; nothing is downloaded.

    Parameters
    ----------
    test_fraction : float, default 0.25
        Fraction of each class held out for testing.
    seed : int, default 0
        Seed of the split; the same seed gives the same split.
    dtype : numpy dtype, default float32
        Floating dtype of the features.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        Features of shape (n, 64), pixel intensities scaled to [0, 1] (value / 16), and
        labels of shape (n,), int64 digits 0–9.

    Examples
    --------
    >>> X_train, y_train, X_test, y_test = cr.data.load_digits()     # needs scikit-learn
    >>> X_train.shape, X_test.shape, X_train.dtype, float(X_train.max())
    ((1347, 64), (450, 64), dtype('float32'), 1.0)
    >>> sorted(set(y_test.tolist())) == list(range(10))
    True
    """
    datasets = require("sklearn.datasets", "data", "the 8x8 digits data set")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype, got {dtype}")
    X, y = datasets.load_digits(return_X_y=True)
    X = (np.asarray(X, dtype=np.float64) / 16.0).astype(dtype)
    y = np.asarray(y, dtype=np.int64)
    train, test = split_indices(len(y), test_fraction, seed=seed, stratify=y, name="test_fraction")
    return X[train], y[train], X[test], y[test]
