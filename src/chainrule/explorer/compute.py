"""What the explorer computes, with chainrule, independent of HTTP.

An *objective* is any callable ``f(x, y) -> Tensor`` that works elementwise on Tensors of
any (broadcastable) shape: a parsed :class:`~chainrule.explorer.parser.Expression` or a
:class:`~chainrule.explorer.network.NetworkLandscape`. Because of that, a whole grid is one
forward and one backward pass, and a single point is the same code on 0-d Tensors.

Values that are not finite are returned as ``None`` (JSON has no NaN) and counted, so the
page can say so instead of drawing nothing.
"""

from __future__ import annotations

import math

import numpy as np


def finite_or_none(a) -> list | float | None:
    """``a`` as nested lists of floats, with NaN and ±inf replaced by None."""
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 0:
        v = float(arr)
        return v if math.isfinite(v) else None
    obj = arr.astype(object)
    obj[~np.isfinite(arr)] = None
    return obj.tolist()


def _value_and_grad(f, x: np.ndarray, y: np.ndarray):
    """F, ∂F/∂x, ∂F/∂y at arrays ``x``, ``y``: one forward, one backward of ``F.sum()``."""
    import chainrule as cr

    xt = cr.tensor(x, requires_grad=True)
    yt = cr.tensor(y, requires_grad=True)
    with np.errstate(all="ignore"):
        out = f(xt, yt)
        gx, gy = cr.grad(out.sum(), [xt, yt], allow_unused=True)
    zeros = np.zeros(np.broadcast_shapes(x.shape, y.shape))
    gx = zeros if gx is None else np.broadcast_to(gx.numpy(), zeros.shape)
    gy = zeros if gy is None else np.broadcast_to(gy.numpy(), zeros.shape)
    return np.broadcast_to(out.numpy(), zeros.shape), gx, gy


def point(f, x: float, y: float, direction: float | None = None) -> dict:
    """F, its gradient, |∇F|, the gradient's angle and a directional derivative at (x, y).

    Parameters
    ----------
    f : objective
    x, y : float
        The point.
    direction : float, optional
        Angle φ in degrees of a unit vector u = (cos φ, sin φ); the result then holds the
        directional derivative ∇F·u = ‖∇F‖ cos θ and the angle θ between u and ∇F.
    """
    value, gx, gy = _value_and_grad(f, np.float64(x), np.float64(y))
    value, gx, gy = float(value), float(gx), float(gy)
    norm = math.hypot(gx, gy)
    out = {
        "x": x,
        "y": y,
        "f": value,
        "gx": gx,
        "gy": gy,
        "norm": norm,
        "angle": math.degrees(math.atan2(gy, gx)) if math.isfinite(norm) else math.nan,
        "finite": all(math.isfinite(v) for v in (value, gx, gy)),
    }
    if direction is not None:
        phi = math.radians(direction)
        ux, uy = math.cos(phi), math.sin(phi)
        out["direction"] = direction
        out["directional"] = gx * ux + gy * uy
        if norm > 0 and math.isfinite(norm):
            cos_theta = max(-1.0, min(1.0, (gx * ux + gy * uy) / norm))
            out["theta"] = math.degrees(math.acos(cos_theta))
        else:
            out["theta"] = None
    if not out["finite"]:
        out["message"] = (
            f"F or its gradient is not finite at ({x:g}, {y:g}): "
            f"F = {value}, ∂F/∂x = {gx}, ∂F/∂y = {gy}"
        )
    return {k: finite_or_none(v) if isinstance(v, float) else v for k, v in out.items()}


def surface(f, domain: tuple[float, float, float, float], n: int, gradient: bool = True) -> dict:
    """F and ∇F on an n×n grid over ``domain``, by one vectorized forward and backward.

    With ``gradient=False`` the gradient grids are left out of the result (they are big).
    """
    xmin, xmax, ymin, ymax = domain
    xs = np.linspace(xmin, xmax, n)
    ys = np.linspace(ymin, ymax, n)
    gridx, gridy = np.meshgrid(xs, ys)  # z[i][j] is at (xs[j], ys[i]), as plotly expects
    if gradient:
        z, gx, gy = _value_and_grad(f, gridx, gridy)
    else:
        import chainrule as cr

        with cr.no_grad(), np.errstate(all="ignore"):
            z = np.broadcast_to(f(cr.tensor(gridx), cr.tensor(gridy)).numpy(), gridx.shape)
    finite = np.isfinite(z)
    return {
        "x": xs.tolist(),
        "y": ys.tolist(),
        "z": finite_or_none(z),
        "gx": finite_or_none(gx) if gradient else None,
        "gy": finite_or_none(gy) if gradient else None,
        "zmin": float(z[finite].min()) if finite.any() else None,
        "zmax": float(z[finite].max()) if finite.any() else None,
        "nonfinite": int((~finite).sum()),
    }


def hessian(f, x: float, y: float) -> np.ndarray:
    """The 2×2 Hessian of ``f`` at (x, y) by differentiating chainrule's gradient again."""
    import chainrule as cr

    xt = cr.tensor(np.float64(x), requires_grad=True)
    yt = cr.tensor(np.float64(y), requires_grad=True)
    with np.errstate(all="ignore"):
        out = f(xt, yt)
        grads = cr.grad(out, [xt, yt], create_graph=True, allow_unused=True)
        rows = []
        for g in grads:
            if g is None or not g.requires_grad:  # a gradient that is constant in x and y
                rows.append([0.0, 0.0])
                continue
            second = cr.grad(g, [xt, yt], retain_graph=True, allow_unused=True)
            rows.append([0.0 if s is None else float(s.item()) for s in second])
    return np.array(rows)


def curvature(f, x: float, y: float) -> dict:
    """Hessian, its eigenvalues and the plain-descent step bound η < 2/λ_max, in words."""
    h = hessian(f, x, y)
    if not np.all(np.isfinite(h)):
        return {"hessian": finite_or_none(h), "eigenvalues": None, "lr_bound": None,
                "text": "The Hessian is not finite here, so no step-size bound can be given."}
    h = 0.5 * (h + h.T)
    eig = np.linalg.eigvalsh(h)
    lam = float(eig[-1])
    if lam > 0:
        bound = 2.0 / lam
        text = (f"Hessian eigenvalues {eig[0]:.4g} and {eig[1]:.4g}: near this point plain "
                f"gradient descent is stable only for η < 2/λ_max = 2/{lam:.4g} = {bound:.4g}.")
    else:
        bound = None
        text = (f"Hessian eigenvalues {eig[0]:.4g} and {eig[1]:.4g}: no positive curvature "
                f"here (the surface is flat or bends down), so no step-size bound applies.")
    return {"hessian": h.tolist(), "eigenvalues": eig.tolist(), "lr_bound": bound, "text": text}


def taylor(f, x: float, y: float, etas: np.ndarray, at: float | None = None) -> dict:
    """Predicted (∇F·Δ) and actual change of F for the steps Δ = −η∇F, for each η.

    The actual values come from one vectorized forward pass over all the stepped points.
    ``breaks_at`` is the first η where they differ by more than 10%: where the first-order
    Taylor picture stops describing the step. ``at`` adds the pair for one more η.
    """
    import chainrule as cr

    here = point(f, x, y)
    if not here["finite"]:
        return {"eta": etas.tolist(), "predicted": None, "actual": None, "f": None,
                "breaks_at": None, "at_eta": None, "message": here["message"]}
    gx, gy, fx = here["gx"], here["gy"], here["f"]
    all_etas = etas if at is None else np.append(etas, at)
    predicted = -all_etas * (gx * gx + gy * gy)
    with cr.no_grad(), np.errstate(all="ignore"):
        stepped = f(cr.tensor(x - all_etas * gx), cr.tensor(y - all_etas * gy)).numpy()
        actual = np.broadcast_to(stepped, all_etas.shape) - fx
        rel = np.abs(actual - predicted) / np.abs(predicted)
    bad = np.nonzero(~(rel[: etas.size] <= 0.1))[0]
    breaks = float(etas[bad[0]]) if bad.size and here["norm"] > 0 else None
    out = {
        "eta": etas.tolist(),
        "predicted": finite_or_none(predicted[: etas.size]),
        "actual": finite_or_none(actual[: etas.size]),
        "f": fx,
        "breaks_at": breaks,
        "at_eta": None,
    }
    if at is not None:
        out["at_eta"] = {"eta": at, "predicted": finite_or_none(predicted[-1]),
                         "actual": finite_or_none(actual[-1])}
    return out
