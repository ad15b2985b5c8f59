"""The optimizer base class: parameter groups, zero_grad, state dicts.

Optimizers change ``p.data`` in place with NumPy (no Tensor ops, nothing recorded) and
bump ``p._version`` so that the engine notices a parameter changed after a graph used it.
"""

from __future__ import annotations

import numpy as np

from ..nn.module import StateDictError
from ..tensor import Tensor

_REQUIRED = object()


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
        Per-parameter buffers (``state[p]`` is a dict of NumPy arrays and numbers).
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
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
        missing = [k for k, v in full.items() if v is _REQUIRED]
        if missing:
            raise TypeError(f"{type(self).__name__}: missing required option {missing[0]!r}")
        self._check_group(full)
        self.param_groups.append(full)

    def _check_group(self, group):
        """Validate one group's hyper-parameters (subclasses raise ValueError)."""
        if group.get("lr", 0) < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']}")

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set ``p.grad`` to None (default) or fill it with zeros."""
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = self._init_state(p, group)
                self._update(p.data, p.grad.data, st, group)
                p._version += 1
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
                        k: (v.copy() if isinstance(v, np.ndarray) else v)
                        for k, v in self.state[p].items()
                        if not k.startswith("_") and v is not None
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and buffers saved by :meth:`state_dict`."""
        name = f"{type(self).__name__}.load_state_dict"
        try:
            groups, state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise StateDictError(
                f"{name}: expected a dict with 'state' and 'param_groups'"
            ) from None
        if len(groups) != len(self.param_groups):
            raise StateDictError(
                f"{name}: the state dict has {len(groups)} parameter group(s), "
                f"the optimizer {len(self.param_groups)}"
            )
        merged, params = [], []
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise StateDictError(
                    f"{name}: group {i} has {len(saved['params'])} parameters in the state "
                    f"dict but {len(own['params'])} in the optimizer"
                )
            unknown = set(saved) - set(self.defaults) - {"params", "initial_lr"}
            if unknown:
                raise StateDictError(
                    f"{name}: group {i} has option(s) {', '.join(sorted(unknown))} that "
                    f"{type(self).__name__} does not have; was it saved by another optimizer?"
                )
            group = dict(own)
            group.update({k: _scalar(v) for k, v in saved.items() if k != "params"})
            merged.append(group)
            params.extend((key, p, group) for key, p in zip(saved["params"], own["params"]))
        new_state = {}
        for key, p, group in params:
            key = _scalar(key)
            saved = state.get(key, state.get(str(key)))
            if saved is not None:
                new_state[p] = self._restore_state(name, key, p, group, saved)
        for own, group in zip(self.param_groups, merged):  # nothing changes before this
            own.update(group)
        self.state = new_state

    def _restore_state(self, name, key, p, group, saved):
        st = self._init_state(p, group)
        for k, v in saved.items():
            if k not in st or k.startswith("_"):
                raise StateDictError(
                    f"{name}: unknown buffer {k!r} for parameter {key}; "
                    f"{type(self).__name__} keeps "
                    f"{', '.join(k for k in sorted(st) if not k.startswith('_')) or 'no buffers'}"
                )
            arr = v.data if isinstance(v, Tensor) else v
            if isinstance(arr, np.ndarray) and arr.ndim > 0:
                if arr.shape != p.shape:
                    raise StateDictError(
                        f"{name}: buffer {k!r} of parameter {key} has shape {arr.shape}, "
                        f"but the parameter has shape {p.shape}"
                    )
                st[k] = arr.astype(p.dtype, copy=True)
            else:
                st[k] = _scalar(arr)
        return st

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"


def with_weight_decay(w, g, weight_decay, state):
    """``g + weight_decay * w`` (L2 regularisation), in the state's ``_g`` scratch buffer."""
    if not weight_decay:
        return g
    buf = state.get("_g")
    if buf is None:
        buf = state["_g"] = np.empty_like(w)
    np.multiply(w, weight_decay, out=buf)
    np.add(buf, g, out=buf)
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
