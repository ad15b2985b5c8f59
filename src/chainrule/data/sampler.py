"""Samplers: the order in which a :class:`~chainrule.data.DataLoader` visits samples."""

from __future__ import annotations

import math

import numpy as np


def _count(value, name, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer ≥ {low}, got {value!r}")
    return int(value)


class DistributedSampler:
    """The part of a data set that one rank visits, as PyTorch's ``DistributedSampler``.

    Iterating yields this rank's sample indices for the current epoch: every
    ``num_replicas``-th index of one permutation that every rank draws alike (seeded by
    ``seed + epoch``), starting at ``rank``. Call ``set_epoch(e)`` before each epoch for a
    new shuffle. The shards of one epoch are disjoint and together cover the data set
    when ``len(dataset)`` is a multiple of ``num_replicas``; otherwise, as in PyTorch,
    ``drop_last=False`` pads the permutation with its first indices so every rank gets
    ``ceil(n / num_replicas)`` (a few samples visited twice), and ``drop_last=True`` drops
    its tail so every rank gets ``floor(n / num_replicas)``.

    Parameters
    ----------
    dataset : sized (an array, a sequence) or int
        What to sample from: ``len(dataset)`` samples (an int is taken as that count).
    num_replicas, rank : int, optional
        Default: the world size and rank of the default process group.
    shuffle : bool, default True
    seed : int, default 0
        The same on every rank.
    drop_last : bool, default False

    Notes
    -----
    Use with ``DataLoader(X, y, batch_size=b, sampler=sampler)``: ``b`` is then the
    batch of one rank.

    Examples
    --------
    >>> shards = [list(cr.data.DistributedSampler(10, num_replicas=2, rank=r, seed=0))
    ...           for r in (0, 1)]
    >>> sorted(shards[0] + shards[1]) == list(range(10))      # disjoint, and they cover
    True
    >>> s = cr.data.DistributedSampler(10, num_replicas=2, rank=0)
    >>> s.set_epoch(1); list(s) != shards[0]                   # a new shuffle per epoch
    True
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from .. import distributed

            num_replicas = distributed.get_world_size() if num_replicas is None else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        self.num_replicas = _count(num_replicas, "num_replicas", 1)
        self.rank = _count(rank, "rank", 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"rank must be in 0..{self.num_replicas - 1}, got {rank}")
        n = dataset if isinstance(dataset, (int, np.integer)) else len(dataset)
        self.n = _count(n, "len(dataset)", 0)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        if self.drop_last:
            self.num_samples = self.n // self.num_replicas
        else:
            self.num_samples = math.ceil(self.n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Use the shuffle of epoch ``epoch`` (call before iterating each epoch)."""
        self.epoch = int(epoch)

    def indices(self):
        """This rank's indices for the current epoch, as an array."""
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(self.n)
        else:
            order = np.arange(self.n)
        if self.total_size > self.n:  # pad with the first indices (cycled if needed)
            order = np.resize(order, self.total_size)
        order = order[: self.total_size]
        return order[self.rank :: self.num_replicas]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples

    def __repr__(self):
        return (f"DistributedSampler(n={self.n}, num_replicas={self.num_replicas}, "
                f"rank={self.rank}, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last})")
