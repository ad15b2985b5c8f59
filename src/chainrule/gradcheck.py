"""Check back-propagated gradients against finite differences (the Taylor view).

For a small step ε the text's ΔE ≈ ∇E·Δw becomes the central difference
``(f(w + ε) − f(w − ε)) / 2ε``, accurate to O(ε²). Everything here runs in float64.
Small problems compare the whole Jacobian, element by element; large ones compare
directional derivatives along random directions (as JAX's ``check_grads``), and on a
failure narrow it down to the input and, where affordable, the element.
"""

from __future__ import annotations

import numpy as np

from . import backend as _backend
from .autograd import grad as _grad
from .errors import GradcheckError
from .tensor import Tensor, _wrap


def _host(a):
    """``a`` as a float64 NumPy array: values of another library are copied to the host
    explicitly (the comparisons run there)."""
    b = _backend.of(a)
    return np.asarray(a if b is None else b.to_host(a), dtype=np.float64)


def _like(a, ref):
    """NumPy values ``a`` in ``ref``'s library and device (the perturbations and seeds)."""
    b = _backend.of(ref)
    return a if b is None else b.from_host(np.asarray(a), ref)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _prepare(inputs):
    inputs = _as_tuple(inputs)
    prepared = []
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype.kind == "f":
            b = _backend.of(x.data)  # float64 copies: checks need it
            t = Tensor(np.array(x.data, dtype=np.float64) if b is None
                       else b.astype(b.copy(x.data), np.float64))
            t.requires_grad = x.requires_grad
            prepared.append(t)
        else:
            prepared.append(x)
    diff = [i for i, x in enumerate(prepared) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad; nothing to check")
    return prepared, diff


def _outputs(fn, xs):
    outs = _as_tuple(fn(*xs))
    return [o for o in outs if isinstance(o, Tensor)]


def _flat_values(fn, xs):
    return np.concatenate([_host(o.data).ravel() for o in _outputs(fn, xs)])


def _analytic_vjp(fn, xs, diff, vs):
    """J^T v for each differentiable input (zeros where an output does not depend on it)."""
    outs = _outputs(fn, xs)
    pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    results = [np.zeros(xs[i].shape) for i in diff]
    if not pairs:
        return results
    gs = _grad([o for o, _ in pairs], [xs[i] for i in diff],
               grad_outputs=[_wrap(_like(v.astype(o.dtype), o.data), None) for o, v in pairs],
               allow_unused=True)
    for k, g in enumerate(gs):
        if g is not None:
            results[k] = _host(g.data)
    return results


def _numeric_directional(fn, xs, i, u, eps):
    x = xs[i]
    base = x.data
    try:
        step = _like(eps * u, base)
        x.data = base + step
        plus = _flat_values(fn, xs)
        x.data = base - step
        minus = _flat_values(fn, xs)
    finally:
        x.data = base
    return (plus - minus) / (2 * eps)


def _split(flat, outs):
    parts, k = [], 0
    for o in outs:
        n = int(np.prod(o.shape))
        parts.append(flat[k:k + n].reshape(o.shape))
        k += n
    return parts


def _fail(what, i, x, element, analytical, numerical, atol, rtol):
    elem = f" element {element}" if element is not None else ""
    raise GradcheckError(
        f"gradcheck: {what} for input {i} (shape {x.shape}){elem}: analytical "
        f"{analytical:.10g} vs numerical {numerical:.10g} (|difference| "
        f"{abs(analytical - numerical):.3g} > atol {atol:g} + rtol {rtol:g} * |numerical|)"
    )


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, *, raise_exception=True,
              max_full=256, n_directions=6, seed=0):
    """Compare ``fn``'s back-propagated gradients with central finite differences.

    Parameters
    ----------
    fn : callable
        Takes the inputs, returns a Tensor or a tuple of Tensors.
    inputs : Tensor or sequence
        Tensors with ``requires_grad=True`` are checked (as float64 copies).
    eps, atol, rtol : float
        Step and tolerances: |analytical − numerical| <= atol + rtol·|numerical|.
    max_full : int
        Up to this many input and output elements the whole Jacobian is compared;
        beyond, ``n_directions`` random directions are.

    Returns
    -------
    True, or raises :class:`~chainrule.errors.GradcheckError` naming the input, the
    element and both values (returns False instead with ``raise_exception=False``).

    Examples
    --------
    >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)
    >>> W = cr.tensor(np.random.default_rng(0).normal(size=(2, 3)), requires_grad=True)
    >>> cr.gradcheck(lambda a, b: cr.tanh(a @ b), [x, W])
    True
    """
    try:
        _check(fn, inputs, eps, atol, rtol, max_full, n_directions, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _check(fn, inputs, eps, atol, rtol, max_full, n_directions, seed):
    xs, diff = _prepare(inputs)
    outs = _outputs(fn, xs)
    if not outs:
        raise ValueError("gradcheck: fn returned no Tensor")
    n_out = sum(o.data.size for o in outs)
    n_in = sum(xs[i].data.size for i in diff)
    rng = np.random.default_rng(seed)
    if n_in <= max_full and n_out <= max_full:
        _check_full(fn, xs, diff, outs, n_out, eps, atol, rtol)
    else:
        _check_directions(fn, xs, diff, outs, eps, atol, rtol, n_directions, rng)


def _check_full(fn, xs, diff, outs, n_out, eps, atol, rtol):
    rows = []  # rows[j][k] = d out_j / d input k  (flattened)
    for j in range(n_out):
        onehot = np.zeros(n_out)
        onehot[j] = 1.0
        rows.append(_analytic_vjp(fn, xs, diff, _split(onehot, outs)))
    for k, i in enumerate(diff):
        x = xs[i]
        for e in range(x.data.size):
            u = np.zeros(x.data.size)
            u[e] = 1.0
            col = _numeric_directional(fn, xs, i, u.reshape(x.shape), eps)
            for j in range(n_out):
                a = rows[j][k].ravel()[e]
                n = col[j]
                if not abs(a - n) <= atol + rtol * abs(n):
                    idx = np.unravel_index(e, x.shape) if x.ndim else ()
                    _fail(f"d(output element {j})/d(input)", i, x, tuple(int(v) for v in idx),
                          a, n, atol, rtol)


def _check_directions(fn, xs, diff, outs, eps, atol, rtol, n_directions, rng):
    for _ in range(n_directions):
        vs = [rng.standard_normal(o.shape) for o in outs]
        v_flat = np.concatenate([v.ravel() for v in vs])
        jtv = _analytic_vjp(fn, xs, diff, vs)
        for k, i in enumerate(diff):
            x = xs[i]
            u = rng.standard_normal(x.shape)
            n = float(v_flat @ _numeric_directional(fn, xs, i, u, eps))
            a = float(np.sum(jtv[k] * u))
            if not abs(a - n) <= atol + rtol * abs(n):
                _locate(fn, xs, i, x, v_flat, jtv[k], eps, atol, rtol)
                _fail("directional derivative along a random direction", i, x, None, a, n,
                      atol, rtol)


def _locate(fn, xs, i, x, v_flat, jtv, eps, atol, rtol, limit=4096):
    """Find the element whose partial derivative disagrees (scans up to ``limit``)."""
    for e in range(min(x.data.size, limit)):
        u = np.zeros(x.data.size)
        u[e] = 1.0
        n = float(v_flat @ _numeric_directional(fn, xs, i, u.reshape(x.shape), eps))
        a = float(jtv.ravel()[e])
        if not abs(a - n) <= atol + rtol * abs(n):
            idx = tuple(int(v) for v in np.unravel_index(e, x.shape)) if x.ndim else ()
            _fail("vᵀ·J along a random output direction v", i, x, idx, a, n, atol, rtol)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, *,
                  raise_exception=True, max_full=256, n_directions=6, seed=0):
    """Check second derivatives: gradcheck of ``x, v -> grad(fn(x), x, v, create_graph=True)``.

    The gradients of the outputs ``v`` (random by default) are checked as inputs too.

    Examples
    --------
    >>> x = cr.tensor([0.3, -1.2], requires_grad=True)
    >>> cr.gradgradcheck(lambda a: (cr.sin(a) * a).sum(), [x])
    True
    """
    xs, diff = _prepare(inputs)
    outs = _outputs(fn, xs)
    rng = np.random.default_rng(seed + 1)
    if grad_outputs is None:
        vs = [Tensor(_like(rng.standard_normal(o.shape), o.data), requires_grad=True)
              for o in outs]
    else:
        vs = [Tensor(np.asarray(v, dtype=np.float64), requires_grad=True)
              for v in _as_tuple(grad_outputs)]
    n = len(xs)

    def first_order(*args):
        cur, cur_vs = list(args[:n]), args[n:]
        o = _outputs(fn, cur)
        pairs = [(oo, v) for oo, v in zip(o, cur_vs) if oo.requires_grad]
        targets = [cur[i] for i in diff]
        if not pairs:
            return tuple(_wrap(_like(np.zeros(t.shape), t.data), None) for t in targets)
        gs = _grad([p for p, _ in pairs], targets, grad_outputs=[v for _, v in pairs],
                   create_graph=True, allow_unused=True)
        return tuple(g if g is not None else _wrap(_like(np.zeros(t.shape), t.data), None)
                     for g, t in zip(gs, targets))

    return gradcheck(first_order, list(xs) + vs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, max_full=max_full,
                     n_directions=n_directions, seed=seed)
