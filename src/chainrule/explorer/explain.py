"""Words for a descent path that went wrong, true for its case.

Two different things make descent fail on the explorer's surfaces:

- **F is unbounded below** along some direction (the saddle x² − y² along y): E falls
  without end and the point runs off. No step size helps; the Hessian's negative
  eigenvalue and its eigenvector say which way F bends down.
- **The step is too large for the curvature** (η > 2/λ_max for plain gradient descent):
  E *grows*, the point oscillating across the valley with growing amplitude, each step
  multiplying the error along the top eigenvector by |1 − ηλ_max| > 1. That can be fast
  (an overflow after a few steps) or slow (E growing steadily over the whole run, with
  η just above the bound) — both are reported.

The bound is checked at the start and at points along the path, so "the path met larger
curvature" is said only when a point on it has λ_max > 2/η.
"""

from __future__ import annotations

import math

import numpy as np

from .compute import hessian
from .descent import METHODS

SAMPLES = 24  # points along a path where the Hessian is evaluated


def _finite_points(path) -> list[tuple[float, float, float]]:
    pts = []
    for x, y, e in zip(path["x"], path["y"], path["E"]):
        if None in (x, y, e) or not all(math.isfinite(v) for v in (x, y, e)):
            break
        pts.append((x, y, e))
    return pts


def _eig(f, x, y):
    h = hessian(f, x, y)
    if not np.all(np.isfinite(h)):
        return None
    return np.linalg.eigh(0.5 * (h + h.T))


def _stable_below(method: str, lam: float) -> tuple[float, str] | None:
    """The largest stable η on a quadratic with top curvature ``lam`` (plain GD, heavy ball)."""
    extra = METHODS[method][2]
    if method == "gd":
        return 2.0 / lam, "2/λ_max"
    if method == "momentum":
        beta = extra["momentum"]
        return 2.0 * (1 + beta) / lam, f"2(1 + β)/λ_max with β = {beta:g}"
    return None


def explain_path(f, path: dict, lr: float) -> str | None:
    """A sentence or two on why ``path`` (from :func:`.descent.run`) failed, or None if it
    did not: it neither diverged nor ended with a larger E than it started with."""
    pts = _finite_points(path)
    diverged = path["status"] == "diverged"
    if len(pts) < 2:
        return path["message"] if diverged else None
    (x0, y0, e0), (x1, y1, e1) = pts[0], pts[-1]
    grew = e1 > e0
    if not diverged and not grew:
        return None
    label = path["label"]
    lead = (path["message"] + " ") if diverged else ""
    n = len(pts) - 1

    if not grew:  # E fell all the way: F is unbounded below along the way the point ran
        d = np.array([x1 - x0, y1 - y0])
        d = d / (np.linalg.norm(d) or 1.0)
        words = (f"{lead}E fell from {e0:.4g} to {e1:.4g} while the point ran off along "
                 f"({d[0]:.2f}, {d[1]:.2f}): F is unbounded below in that direction, so "
                 "descent never stops, whatever η.")
        eig = _eig(f, x0, y0)
        if eig is not None and eig[0][0] < 0:
            lam, v = eig[0][0], eig[1][:, 0]
            along = abs(float(d @ v))
            words += (f" The Hessian has a negative eigenvalue λ = {lam:.4g} with eigenvector "
                      f"({v[0]:.2f}, {v[1]:.2f}): F bends down that way")
            words += (", the way the point went." if along > 0.9 else
                      f" (|cos| = {along:.2f} with the path's direction).")
        return words

    # E grew: the step is too large for the curvature the path meets
    grown = f"{label}: E grew from {e0:.4g} to {e1:.4g} over {n} steps"
    grown = (lead + f"Before that, E grew from {e0:.4g} to {e1:.4g}") if diverged else grown
    eig0 = _eig(f, x0, y0)
    lam0 = float(eig0[0][-1]) if eig0 is not None else None
    bound = _stable_below(path["method"], lam0) if lam0 and lam0 > 0 else None
    if bound is None and path["method"] not in ("gd", "momentum"):
        why = ("its step adapts to the gradient's size, so no single η bound applies"
               if path["method"] in ("rmsprop", "adam") else "no η bound is computed for it here")
        return f"{grown}: η = {lr:g} is too large for {label} here ({why})."
    if bound is not None and lr > bound[0]:
        words = (f"{grown}: η = {lr:g} is above the bound η < {bound[1]} = "
                 f"{bound[0]:.4g} (λ_max = {lam0:.4g} at the start).")
        if path["method"] == "gd":
            words += (f" Each step multiplies the error along the top eigenvector by "
                      f"|1 − ηλ_max| = {abs(1 - lr * lam0):.4g} > 1, so the point swings "
                      "across the valley further each time.")
        return words
    # below the bound at the start: look for larger curvature along the path
    idx = np.unique(np.linspace(0, len(pts) - 1, min(SAMPLES, len(pts))).astype(int))
    worst = None
    for i in idx:
        eig = _eig(f, pts[i][0], pts[i][1])
        if eig is not None and (worst is None or eig[0][-1] > worst[0]):
            worst = (float(eig[0][-1]), i)
    if worst is not None and worst[0] > 0:
        b = _stable_below(path["method"], worst[0])
        if b is not None and lr > b[0]:
            px, py = pts[worst[1]][:2]
            return (f"{grown}. η = {lr:g} is below the bound at the start, but at step "
                    f"{worst[1]}, ({px:.3g}, {py:.3g}), the curvature is larger "
                    f"(λ_max = {worst[0]:.4g}), so the bound there is {b[1]} = {b[0]:.4g} < η.")
    return (f"{grown}, although η = {lr:g} is below the step-size bound at every point "
            "checked along the path.")


def explain(f, paths: list[dict], lr: float) -> str | None:
    """The explanations of all failed paths, joined; None when every path went well."""
    words = [w for w in (explain_path(f, p, lr) for p in paths) if w]
    return " ".join(words) or None
