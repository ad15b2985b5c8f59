"""The optimizer base class: parameter groups, zero_grad, state dicts.

Optimizers change ``p.data`` in place (no Tensor ops, nothing recorded) with the calls of
``backend.ufuncs(p.data)``: NumPy's ufuncs with ``out=`` for NumPy arrays, the same calls
over the parameter's own library otherwise, and bump each parameter's version
(``p._bump_version()``) so that the engine notices a parameter changed after a graph used
it. A parameter's state is made on its device, and follows it when ``Module.to`` moves it.
"""

from __future__ import annotations

import sys

import numpy as np

from .. import backend
from ..errors import StateDictError
from ..nn.utils import zero_grads
from ..tensor import Tensor
from .options import NONNEGATIVE, Real, check

_tensor = sys.modules[Tensor.__module__]  # the module (cr.tensor is the function)

# numbers kept in a parameter's state besides its buffers (arrays shaped like it)
_STATE_NUMBERS = {"step": Real(0, integer=True)}


class Optimizer:
    """Base class: holds ``param_groups`` and per-parameter ``state``.

    Parameters
    ----------
    params : iterable of Tensors, or of dicts
        The parameters to train, or groups ``{"params": [...], "lr": ..., ...}`` whose
        entries override ``defaults`` for that group.
    defaults : dict
        Hyper-parameters of every group that does not set its own.

    Attributes
    ----------
    state : dict
        Per-parameter buffers (``state[p]`` is a dict of arrays on ``p``'s device, and
        numbers).
    OPTIONS : dict
        Class attribute: the rule each hyper-parameter follows (see
        :mod:`chainrule.optim.options`), applied to the defaults, to every group added and
        to every group loaded. NaN and infinite values are always refused.

    Examples
    --------
    >>> net = cr.nn.Linear(2, 1)
    >>> opt = cr.optim.SGD([{"params": [net.weight]}, {"params": [net.bias], "lr": 0.0}], lr=0.1)
    >>> [g["lr"] for g in opt.param_groups]          # a group's own value wins over the default
    [0.1, 0.0]
    """

    OPTIONS: dict[str, object] = {"lr": NONNEGATIVE, "initial_lr": NONNEGATIVE}

    def __init__(self, params, defaults):
        self.defaults = self._check_group(defaults, type(self).__name__)
        self.param_groups = []
        self.state = {}
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors (e.g. "
                "model.parameters()), got a single Tensor; wrap it in a list"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group):
        """Add a group ``{"params": [...], hyper-parameter: value, ...}``."""
        if not isinstance(group, dict):
            raise TypeError(
                f"{type(self).__name__}: a parameter group must be a dict, got "
                f"{type(group).__name__}"
            )
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, "
                    "expected a Tensor"
                )
            if p.dtype.kind != "f":
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} has dtype {p.dtype}; only "
                    "floating-point tensors can be optimized"
                )
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params) or len({id(p) for p in params}) < len(params):
            raise ValueError(f"{type(self).__name__}: a parameter appears in more than one group")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise TypeError(
                f"{type(self).__name__}: unknown option(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(self.defaults))}"
            )
        full = dict(self.defaults)
        full.update(group)
        full["params"] = params
        where = f"{type(self).__name__}: parameter group {len(self.param_groups)}"
        self.param_groups.append(self._check_group(full, where))

    def _check_group(self, group, where, error=ValueError):
        """``group`` with its hyper-parameters checked against ``OPTIONS`` and each other.

        The one check of the constructor's defaults, ``add_param_group`` and
        ``load_state_dict``; raises ``error`` naming ``where``, the option and its value.
        """
        group = check(self.OPTIONS, group, where, error)
        problem = self._conflict(group)
        if problem:
            raise error(f"{where}: {problem}")
        return group

    def _conflict(self, group):
        """What is wrong with a combination of valid options (None when nothing is)."""
        return None

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set ``p.grad`` to None (default) or fill it with zeros."""
        zero_grads((p for g in self.param_groups for p in g["params"]), set_to_none)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            loss = closure()
        foreign = _tensor._FOREIGN  # another library's arrays met the engine
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = self._init_state(p, group)
                elif foreign:
                    _follow(p, st)
                if foreign:
                    backend.common(f"{type(self).__name__}.step: parameter and its .grad",
                                   (p.data, p.grad.data))
                self._update(p.data, p.grad.data, st, group)
                p._bump_version()
        return loss

    def _init_state(self, p, group):
        """A new parameter's state dict (buffers are created here, once)."""
        return {}

    def _update(self, w, g, state, group):
        """Change the array ``w`` in place given its gradient ``g``."""
        raise NotImplementedError

    # ------------------------------------------------------------- state dicts
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``.

        Parameters are numbered in group order; buffers are copied, so later steps do not
        change a saved state dict. Works with ``cr.save``.
        """
        index = {}
        groups = []
        for g in self.param_groups:
            entry = {k: v for k, v in g.items() if k != "params"}
            entry["params"] = []
            for p in g["params"]:
                index[id(p)] = len(index)
                entry["params"].append(index[id(p)])
            groups.append(entry)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: (backend.copy(v) if backend._is_array(v) else v)
                        for k, v in self.state[p].items()
                        if not k.startswith("_") and v is not None
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and buffers saved by :meth:`state_dict`."""
        name = f"{type(self).__name__}.load_state_dict"
        try:
            groups, state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError, IndexError):
            groups = state = None
        if not isinstance(groups, (list, tuple)) or not isinstance(state, dict):
            raise StateDictError(
                f"{name}: expected a dict with 'state' (a dict) and 'param_groups' (a list)"
            )
        if len(groups) != len(self.param_groups):
            raise StateDictError(
                f"{name}: the state dict has {len(groups)} parameter group(s), "
                f"the optimizer {len(self.param_groups)}"
            )
        merged, params = [], []
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            where = f"{name}: parameter group {i}"
            keys = saved.get("params") if isinstance(saved, dict) else None
            if not isinstance(keys, (list, tuple)) or not all(
                isinstance(_scalar(k), int) and not isinstance(_scalar(k), bool) for k in keys
            ):
                raise StateDictError(f"{where} is not a dict with a 'params' list of indices")
            if len(keys) != len(own["params"]):
                raise StateDictError(
                    f"{where} has {len(keys)} parameters in the state dict but "
                    f"{len(own['params'])} in the optimizer"
                )
            unknown = set(saved) - set(self.defaults) - {"params", "initial_lr"}
            if unknown:
                raise StateDictError(
                    f"{where} has option(s) {', '.join(map(str, sorted(unknown, key=str)))} "
                    f"that {type(self).__name__} does not have; was it saved by another "
                    "optimizer?"
                )
            group = dict(own)
            group.update({k: _scalar(v) for k, v in saved.items() if k != "params"})
            group = self._check_group(group, where, StateDictError)
            merged.append(group)
            params.extend((_scalar(key), p, group) for key, p in zip(keys, own["params"]))
        new_state = {}
        for key, p, group in params:
            saved = state.get(key, state.get(str(key)))
            if saved is not None:
                new_state[p] = self._restore_state(name, key, p, group, saved)
        for own, group in zip(self.param_groups, merged):  # nothing changes before this
            own.update(group)
        self.state = new_state

    def _restore_state(self, name, key, p, group, saved):
        st = self._init_state(p, group)
        if not isinstance(saved, dict):
            raise StateDictError(f"{name}: the state of parameter {key} is not a dict")
        for k, v in saved.items():
            if not isinstance(k, str) or k not in st or k.startswith("_"):
                raise StateDictError(
                    f"{name}: unknown buffer {k!r} for parameter {key}; "
                    f"{type(self).__name__} keeps "
                    f"{', '.join(k for k in sorted(st) if not k.startswith('_')) or 'no buffers'}"
                )
            if k in _STATE_NUMBERS:
                st[k] = check(_STATE_NUMBERS, {k: _scalar(v)}, f"{name}: parameter {key}",
                              StateDictError)[k]
                continue
            v = v.data if isinstance(v, Tensor) else v
            try:
                arr = backend.host(v) if backend._is_array(v) else np.asarray(v)
            except (ValueError, TypeError):  # ragged lists
                arr = np.asarray(None)
            if arr.dtype.kind not in "biuf":
                raise StateDictError(
                    f"{name}: buffer {k!r} of parameter {key} has dtype {arr.dtype}, "
                    "expected numbers"
                )
            if arr.shape != p.shape:
                raise StateDictError(
                    f"{name}: buffer {k!r} of parameter {key} has shape {arr.shape}, "
                    f"but the parameter has shape {p.shape}"
                )
            arr = arr.astype(p.dtype, copy=True)
            st[k] = arr if type(p.data) is np.ndarray else backend.move(arr, p.data)
        return st

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"


def _follow(p, state):
    """Move ``p``'s state arrays to its device and dtype when ``p`` moved since (PyTorch's
    ``load_state_dict`` casts and moves state so; here a later ``Module.to`` is followed
    too)."""
    for k, v in state.items():
        if backend._is_array(v) and not (backend.same_place(v, p.data)
                                         and backend.np_dtype(v) == p.dtype):
            v = backend.move(v, p.data)
            state[k] = backend.astype(v, p.dtype)


def with_weight_decay(w, g, weight_decay, state):
    """``g + weight_decay * w`` (L2 regularisation), in the state's ``_g`` scratch buffer."""
    if not weight_decay:
        return g
    u = backend.ufuncs(w)
    buf = state.get("_g")
    if buf is None:
        buf = state["_g"] = u.empty_like(w)
    u.multiply(w, weight_decay, out=buf)
    u.add(buf, g, out=buf)
    return buf


def _scalar(v):
    """Numbers saved as 0-d arrays (or Tensors) come back as Python numbers."""
    if isinstance(v, Tensor):
        v = v.data
    if isinstance(v, (np.ndarray, np.generic)) and np.ndim(v) == 0:
        return v.item()
    if isinstance(v, list):
        return [_scalar(x) for x in v]
    return v
