"""Splitting arrays into training and validation parts, and seeded mini-batching."""

from __future__ import annotations

import math

import numpy as np


def _as_arrays(arrays, what):
    if not arrays:
        raise ValueError(f"{what} needs at least one array")
    out = tuple(np.asarray(a) for a in arrays)
    for i, a in enumerate(out):
        if a.ndim == 0:
            raise ValueError(f"{what}: array {i} is 0-d; arrays must have a first (sample) axis")
    n = len(out[0])
    lengths = [len(a) for a in out]
    if any(m != n for m in lengths):
        raise ValueError(
            f"{what}: arrays must have the same number of samples (first axis), got {lengths}"
        )
    return out, n


def _check_fraction(fraction, name):
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.floating)):
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {fraction!r}")
    if not 0 < fraction < 1:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {fraction!r}")


def split_indices(n, fraction, seed=0, stratify=None, name="fraction"):
    """Seeded indices of a two-way split: ``(keep, held_out)``.

    ``held_out`` has ``round(n * fraction)`` samples (at least 1, at most n − 1); with
    ``stratify`` (one label per sample) each class is split in that proportion, so
    both parts keep the class frequencies. Both index arrays are shuffled. ``name`` is
    the parameter named in error messages.

    Examples
    --------
    >>> keep, held_out = cr.data.split_indices(10, 0.3, seed=0)
    >>> len(keep), len(held_out), sorted(np.concatenate([keep, held_out])) == list(range(10))
    (7, 3, True)
    """
    _check_fraction(fraction, name)
    if n < 2:
        raise ValueError(f"cannot split {n} sample(s) into two non-empty parts")
    rng = np.random.default_rng(seed)
    if stratify is None:
        perm = rng.permutation(n)
        n_out = min(max(round(n * fraction), 1), n - 1)
        return perm[n_out:], perm[:n_out]
    labels = np.asarray(stratify)
    if labels.shape != (n,):
        raise ValueError(
            f"stratify must hold one label per sample, shape ({n},), got {labels.shape}"
        )
    keep, out = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_out = round(len(members) * fraction)
        out.append(members[:n_out])
        keep.append(members[n_out:])
    keep, out = np.concatenate(keep), np.concatenate(out)
    if len(out) == 0 or len(keep) == 0:
        raise ValueError(
            f"a stratified split with fraction {fraction} of {n} samples leaves one part empty"
        )
    return rng.permutation(keep), rng.permutation(out)


def train_val_split(*arrays, val_fraction=0.2, seed=0, stratify=None):
    """Split arrays (same first axis) into seeded training and validation parts.

    Parameters
    ----------
    *arrays : array_like or Tensor
        Arrays with the same number of samples along the first axis.
    val_fraction : float, default 0.2
        Fraction of samples held out for validation (rounded; at least one sample).
    seed : int, default 0
        Seed of the shuffle; the same seed gives the same split.
    stratify : array_like, optional
        Class labels, one per sample: split each class in the same proportion.

    Returns
    -------
    tuple of ndarray
        All training parts first, then all validation parts, in the order given:
        ``X_train, y_train, X_val, y_val = train_val_split(X, y)``.

    Examples
    --------
    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    >>> X_train, y_train, X_val, y_val = cr.data.train_val_split(X, y, val_fraction=0.2,
    ...                                                          stratify=y)
    >>> X_train.shape, X_val.shape, sorted(y_val.tolist())   # one sample of each class held out
    ((8, 2), (2, 2), [0, 1])
    """
    arrs, n = _as_arrays(arrays, "train_val_split")
    train, val = split_indices(n, val_fraction, seed=seed, stratify=stratify, name="val_fraction")
    return tuple(a[train] for a in arrs) + tuple(a[val] for a in arrs)


class DataLoader:
    """Mini-batches of arrays sharing a first (sample) axis, with seeded shuffling.

    Iterating yields one tuple of NumPy arrays per batch, one array per input array
    (a 1-tuple for a single array: ``for (xb,) in DataLoader(X)``). Each pass over the
    loader is one epoch and visits every sample exactly once (except the dropped last
    partial batch with ``drop_last=True``). With ``shuffle=True``, each epoch draws a
    new permutation from one generator seeded once at construction, so epochs differ
    from one another while a new loader with the same seed repeats the same sequence.

    Parameters
    ----------
    *arrays : array_like or Tensor
        Arrays with the same number of samples along the first axis.
    batch_size : int, default 32
    shuffle : bool, default True (False when a sampler is given)
    seed : int or None, default 0
        Seed of the shuffling generator (None: fresh randomness from the OS).
    drop_last : bool, default False
        Skip the last batch when it is smaller than ``batch_size``.
    sampler : iterable of int, optional
        The sample indices of each epoch, in order, e.g. a
        :class:`~chainrule.data.DistributedSampler` (then ``shuffle`` must not be True:
        the sampler shuffles).

    Examples
    --------
    >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    >>> loader = cr.data.DataLoader(X, y, batch_size=4, shuffle=True, seed=0)
    >>> len(loader), [xb.shape for xb, yb in loader]
    (3, [(4, 2), (4, 2), (2, 2)])
    >>> sorted(np.concatenate([yb for _, yb in loader]).tolist()) == list(range(10))  # each once
    True
    """

    def __init__(self, *arrays, batch_size=32, shuffle=None, seed=0, drop_last=False,
                 sampler=None):
        self.arrays, self.n_samples = _as_arrays(arrays, "DataLoader")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.batch_size = int(batch_size)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True exclude each other (the "
                             "sampler sets the order; e.g. DistributedSampler(shuffle=True))")
        self.sampler = sampler
        self.shuffle = sampler is None if shuffle is None else bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        n = self.n_samples if self.sampler is None else len(self.sampler)
        if self.drop_last:
            return n // self.batch_size
        return math.ceil(n / self.batch_size)

    def __iter__(self):
        n, bs = self.n_samples, self.batch_size
        if self.sampler is not None:
            order = np.fromiter(self.sampler, dtype=np.intp)
            n = len(order)
        else:
            order = self._rng.permutation(n) if self.shuffle else None
        for b in range(n // bs if self.drop_last else math.ceil(n / bs)):
            if order is None:
                idx = slice(b * bs, min((b + 1) * bs, n))
            else:
                idx = order[b * bs : (b + 1) * bs]
            yield tuple(a[idx] for a in self.arrays)

    def __repr__(self):
        return (
            f"DataLoader(n_samples={self.n_samples}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, seed={self.seed!r}, drop_last={self.drop_last}"
            + (f", sampler={self.sampler!r})" if self.sampler is not None else ")")
        )
