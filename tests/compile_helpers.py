"""Shared by the cr.compile tests: run a step eagerly and compiled, compare bitwise."""

import numpy as np

import chainrule as cr
from chainrule.compiler import CompileError


def same(a, b, where="value"):
    """Bitwise equality of step results and state (Tensors, arrays, numbers, containers)."""
    if isinstance(a, cr.Tensor) or isinstance(b, cr.Tensor):
        assert isinstance(a, cr.Tensor) and isinstance(b, cr.Tensor), where
        return same(a.data, b.data, where)
    if isinstance(a, (np.ndarray, np.generic)) or isinstance(b, (np.ndarray, np.generic)):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} " \
            f"vs {b.dtype}{b.shape}"
        assert a.tobytes() == b.tobytes(), f"{where}: values differ\n{a}\n{b}"
        return
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            same(a[k], b[k], f"{where}[{k!r}]")
        return
    if isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
        return
    assert type(a) is type(b) and (a == b or (a != a and b != b)), f"{where}: {a!r} vs {b!r}"


def snapshot(params, opt=None):
    """Parameters, their gradients and the optimizer's state, as comparable values."""
    out = {"params": [p.data.copy() for p in params],
           "grads": [None if p.grad is None else p.grad.data.copy() for p in params]}
    if opt is not None:
        out["state"] = [
            {k: (v.copy() if isinstance(v, np.ndarray) else v)
             for k, v in opt.state.get(p, {}).items()} for p in params]
        out["lr"] = [g["lr"] for g in opt.param_groups]
    return out


def run_both(make, calls, cache_size=8):
    """``make()`` -> (step, state): two fresh copies, one eager and one compiled, called
    with each argument tuple of ``calls``; results and state must agree bitwise after each
    call. Returns the compiled step."""
    eager, state_e = make()
    step, state_c = make()
    compiled = cr.compile(step, cache_size=cache_size)
    for k, args in enumerate(calls):
        out_e = eager(*args)
        out_c = compiled(*args)
        same(out_e, out_c, f"call {k}: result")
        same(state_e(), state_c(), f"call {k}: state")
    return compiled


def refused(make, args):
    """Whether compiling ``make()``'s step refuses at its first call (a CompileError)."""
    step, _ = make()
    try:
        cr.compile(step)(*args)
    except CompileError:
        return True
    return False
