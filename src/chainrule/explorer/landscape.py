"""Your own model's landscape: E of any ``cr.nn`` model on a plane through its parameters.

A :class:`ModelLandscape` is the explorer's network-landscape mode for any model and loss.
It is an *objective* in the sense of :mod:`.compute`: a callable ``fn(x, y)`` of chainrule
Tensors returning

    E(w₀ + x·d₁ + y·d₂)

for a centre w₀ and two directions d₁, d₂ in parameter space, so :func:`.compute.point`,
:func:`.compute.surface`, :func:`.descent.run` and the explorer's widget take it as they
take a parsed ``F(x, y)``. Two planes are offered:

- :meth:`ModelLandscape.weights`: two chosen scalar weights (``"fc1.weight[0, 1]"``), the
  others at their trained values; the axes are those weights' values.
- :meth:`ModelLandscape.random`: two random *filter-normalised* directions around the
  trained point (Li et al., "Visualizing the Loss Landscape of Neural Nets", NeurIPS 2018):
  each filter of d — a row of a Linear weight, ``d[i]`` along the first axis of any
  parameter with two or more axes — is rescaled to the norm of the same row of the weight,
  ``d[i] ← d[i] / ‖d[i]‖ · ‖w[i]‖``. Biases and other 1-D parameters get a zero direction,
  as the paper's code does by default (``ignore="biasbn"``); ``bias="weight"`` uses the
  parameter itself instead (the code's other choice).

A descent path is drawn from parameter snapshots taken during training (``state_dict()``
after each step): :meth:`ModelLandscape.project` places each on the plane by least squares
on d₁, d₂ (exact for the two-weights plane, whose directions are one-hot) and reports the
*residual fraction* ‖s − plane‖ / ‖s − w*‖, the part of the snapshot's distance from the
trained point w* that the plane does not show. A path with a large residual fraction
walked mostly off the plane, and its line on the contours must be read with that in mind.

The model's parameters are never written: while E is evaluated, each module's parameter
attribute is replaced by the Tensor w₀ + x·d₁ + y·d₂, and the original Parameter object is
put back afterwards (an error in the loss included).

Examples
--------
>>> from chainrule.explorer.landscape import ModelLandscape
>>> rng = np.random.default_rng(0)
>>> model = cr.nn.Sequential(cr.nn.Linear(1, 3, generator=rng), cr.nn.Tanh(),
...                          cr.nn.Linear(3, 1, generator=rng))
>>> grid = np.linspace(-1, 1, 20)[:, None]
>>> x, t = cr.tensor(grid), cr.tensor(grid ** 2)
>>> loss = lambda: 0.5 * ((model(x) - t) ** 2).sum()
>>> land = ModelLandscape.random(model, loss, seed=0)
>>> round(land(cr.tensor(0.0), cr.tensor(0.0)).item(), 12) == round(loss().item(), 12)
True
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..errors import UserError

__all__ = ["ModelLandscape"]

_ENTRY = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(?:\[\s*([0-9,\s]*)\])?\s*$")


def _parse_entry(spec, shapes: Mapping[str, tuple]) -> tuple[str, tuple[int, ...]]:
    """``"fc1.weight[0, 1]"`` or ``("fc1.weight", (0, 1))`` → (name, index), checked."""
    if isinstance(spec, str):
        m = _ENTRY.match(spec)
        if not m:
            raise UserError(f"cannot read the weight {spec!r}; write it as "
                            "'name[i, j]', e.g. 'fc1.weight[0, 1]'")
        name = m.group(1)
        index = tuple(int(v) for v in (m.group(2) or "").replace(" ", "").split(",") if v)
    elif isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], str):
        name, index = spec[0], spec[1]
        index = (index,) if isinstance(index, (int, np.integer)) else tuple(index)
    else:
        raise UserError(f"a weight is 'name[i, j]' or (name, (i, j)), got {spec!r}")
    if name not in shapes:
        raise UserError(f"the model has no parameter {name!r}; it has "
                        f"{', '.join(shapes) or 'none'}")
    shape = shapes[name]
    if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape)):
        raise UserError(f"{name} has shape {shape}: index {list(index)} is not one of its "
                        "entries")
    return name, tuple(int(i) for i in index)


def _check_module(model) -> None:
    from ..nn import Module

    if not isinstance(model, Module):
        raise UserError(f"model must be a cr.nn.Module, got {type(model).__name__}")


def _flat(values: Mapping[str, np.ndarray], names) -> np.ndarray:
    return np.concatenate([np.asarray(values[n], np.float64).ravel() for n in names])


class ModelLandscape:
    """E of ``model`` at w₀ + x·d₁ + y·d₂, a function of the two plane coordinates.

    Usually made by :meth:`weights` or :meth:`random`; the constructor takes any plane.

    Parameters
    ----------
    model : cr.nn.Module
    loss : callable
        Called with no arguments, returns the scalar E for the model's parameters as they
        are when it is called, like an optimizer's closure:
        ``lambda: cr.nn.functional.mse_loss(model(x), t)``.
    d1, d2 : dict
        ``{parameter name: array}`` directions; names left out get a zero direction.
    center : dict, optional
        ``{name: array}`` w₀; default: the parameters now (the trained point).
    labels : (str, str)
        Axis names.
    plane : str
        ``"weights"`` or ``"random"`` (how the plane was chosen; used in words only).

    Notes
    -----
    Calling it with Tensors ``x`` and ``y`` of one (broadcastable) shape returns E of that
    shape, differentiable with respect to both: one forward pass of the model per element.
    Under ``cr.no_grad`` a grid is evaluated without building a graph (see :meth:`grid`).

    Examples
    --------
    >>> from chainrule.explorer.landscape import ModelLandscape
    >>> model = cr.nn.Linear(2, 1, generator=np.random.default_rng(0))
    >>> X, t = cr.tensor([[1.0, 2.0], [0.5, -1.0]]), cr.tensor([[1.0], [0.0]])
    >>> loss = lambda: ((model(X) - t) ** 2).sum()
    >>> d = {"weight": np.array([[1.0, 0.0]])}
    >>> land = ModelLandscape(model, loss, d, {"bias": np.array([1.0])})
    >>> a, b = cr.tensor(0.5, requires_grad=True), cr.tensor(-0.25, requires_grad=True)
    >>> E = land(a, b)
    >>> E.backward()
    >>> bool(np.isclose(a.grad.item(), land.directional_derivatives(0.5, -0.25)[0]))
    True
    """

    def __init__(self, model, loss: Callable, d1: Mapping, d2: Mapping, *,
                 center: Mapping | None = None, labels: tuple[str, str] = ("x", "y"),
                 plane: str = "directions"):
        _check_module(model)
        if not callable(loss):
            raise UserError("loss must be a function of no arguments returning E, e.g. "
                            "lambda: cr.nn.functional.mse_loss(model(x), t)")
        self.model, self.loss = model, loss
        self.labels, self.plane = tuple(labels), plane
        params = dict(model.named_parameters())
        if not params:
            raise UserError("the model has no parameters: there is no landscape to draw")
        self.names = list(params)
        self.shapes = {n: tuple(p.shape) for n, p in params.items()}
        # every (module, attribute) that holds each parameter (a shared one has several)
        self._slots: list[tuple[object, str, str]] = []
        owner = {id(p): n for n, p in params.items()}
        for _, module in model.named_modules():
            for attr, p in module._parameters.items():
                if p is not None and id(p) in owner:
                    self._slots.append((module, attr, owner[id(p)]))
        self.trained = {n: np.array(p.data, dtype=np.float64) for n, p in params.items()}
        self.center = self._checked(center, "center") if center is not None else dict(self.trained)
        self.d1 = self._checked(d1, "d1", zero=True)
        self.d2 = self._checked(d2, "d2", zero=True)
        D = np.stack([_flat(self.d1, self.names), _flat(self.d2, self.names)])
        if np.linalg.matrix_rank(D) < 2:
            raise UserError("the two directions must be non-zero and not parallel")
        self._D = D
        # one-hot directions through a zero centre entry (the two-weights plane): the
        # coordinates are those entries, read exactly rather than solved for
        c = _flat(self.center, self.names)
        hot = [np.flatnonzero(row) for row in D]
        self._entries = ([int(h[0]) for h in hot] if all(
            h.size == 1 and row[h[0]] == 1.0 and c[h[0]] == 0.0 for h, row in zip(hot, D))
            else None)
        self._dtype = {n: params[n].data.dtype for n in self.names}

    def _checked(self, values: Mapping, what: str, zero: bool = False) -> dict:
        if not isinstance(values, Mapping):
            raise UserError(f"{what} must be a dict of parameter name -> array")
        unknown = [n for n in values if n not in self.shapes]
        if unknown:
            raise UserError(f"{what}: the model has no parameter {unknown[0]!r}; it has "
                            f"{', '.join(self.names)}")
        out = {}
        for n in self.names:
            if n not in values:
                if not zero:
                    raise UserError(f"{what} lacks the parameter {n!r}")
                out[n] = np.zeros(self.shapes[n])
                continue
            v = values[n]
            v = np.array(v.numpy() if hasattr(v, "numpy") else v, dtype=np.float64)
            if v.shape != self.shapes[n]:
                raise UserError(f"{what}[{n!r}] has shape {v.shape}, the parameter "
                                f"{self.shapes[n]}")
            out[n] = v
        return out

    # ------------------------------------------------------------------ the two planes
    @classmethod
    def weights(cls, model, loss: Callable, x, y) -> ModelLandscape:
        """E over two chosen scalar weights, the others at their values now.

        ``x`` and ``y`` name entries: ``"fc1.weight[0, 1]"`` (a parameter name from
        ``named_parameters()`` and an index) or ``("fc1.weight", (0, 1))``. The plane's
        coordinates are the two weights' values, so the trained point is at their trained
        values and a snapshot's projection is exact.

        Examples
        --------
        >>> from chainrule.explorer.landscape import ModelLandscape
        >>> model = cr.nn.Linear(2, 1, generator=np.random.default_rng(0))
        >>> X, t = cr.tensor([[1.0, 2.0], [0.5, -1.0]]), cr.tensor([[1.0], [0.0]])
        >>> land = ModelLandscape.weights(model, lambda: ((model(X) - t) ** 2).sum(),
        ...                               "weight[0, 0]", "bias[0]")
        >>> land.labels, land.trained_point == (model.weight[0, 0].item(), model.bias[0].item())
        (('weight[0, 0]', 'bias[0]'), True)
        """
        _check_module(model)
        shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
        ex, ey = _parse_entry(x, shapes), _parse_entry(y, shapes)
        if ex == ey:
            raise UserError(f"choose two different weights (both are {ex[0]}{list(ex[1])})")
        center = {n: np.array(p.data, dtype=np.float64) for n, p in model.named_parameters()}
        dirs = []
        for name, index in (ex, ey):
            center[name][index] = 0.0
            d = np.zeros(shapes[name])
            d[index] = 1.0
            dirs.append({name: d})
        labels = tuple(f"{n}[{', '.join(map(str, i))}]" for n, i in (ex, ey))
        return cls(model, loss, dirs[0], dirs[1], center=center, labels=labels,
                   plane="weights")

    @classmethod
    def random(cls, model, loss: Callable, *, seed: int = 0, bias: str = "zero",
               ) -> ModelLandscape:
        """E around the trained point on two random filter-normalised directions.

        Each direction is drawn from a standard normal (seeded), then each of its filters
        — ``d[i]``, the i-th row along the first axis of a parameter with two or more axes —
        is rescaled to the norm of the same row of the parameter (Li et al. 2018). 1-D
        parameters (biases) get a zero direction (``bias="zero"``, the paper's code's
        default), or the parameter itself (``bias="weight"``). The plane is centred on the
        parameters as they are now: (0, 0) is the trained point.

        Examples
        --------
        >>> from chainrule.explorer.landscape import ModelLandscape
        >>> model = cr.nn.Linear(3, 2, generator=np.random.default_rng(0))
        >>> land = ModelLandscape.random(model, lambda: (model(cr.ones(4, 3)) ** 2).sum())
        >>> rows = np.linalg.norm(land.d1["weight"], axis=1)
        >>> bool(np.allclose(rows, np.linalg.norm(model.weight.numpy(), axis=1)))
        True
        >>> float(np.abs(land.d1["bias"]).max())
        0.0
        """
        _check_module(model)
        if bias not in ("zero", "weight"):
            raise UserError(f"bias must be 'zero' or 'weight', got {bias!r}")
        rng = np.random.default_rng(seed)
        dirs = []
        for _ in range(2):
            d = {}
            for name, p in model.named_parameters():
                w = np.array(p.data, dtype=np.float64)
                if w.ndim <= 1:
                    d[name] = np.zeros_like(w) if bias == "zero" else w.copy()
                    continue
                r = rng.standard_normal(w.shape)
                axes = tuple(range(1, w.ndim))
                rn = np.sqrt((r ** 2).sum(axis=axes, keepdims=True))
                wn = np.sqrt((w ** 2).sum(axis=axes, keepdims=True))
                d[name] = r / np.where(rn > 0, rn, 1.0) * wn
            dirs.append(d)
        return cls(model, loss, dirs[0], dirs[1], labels=("d₁", "d₂"), plane="random")

    # ------------------------------------------------------------------ evaluating E
    @property
    def trained_point(self) -> tuple[float, float]:
        """The trained parameters' place on the plane (their projection; (0, 0) on a
        random plane)."""
        c = self._coordinates(_flat(self.trained, self.names))
        return float(c[0]), float(c[1])

    @contextlib.contextmanager
    def _parameters_set_to(self, values: Mapping):
        """Each module's parameter attribute replaced by ``values[name]``; put back after."""
        try:
            for module, attr, name in self._slots:
                object.__setattr__(module, attr, values[name])
            yield
        finally:
            for module, attr, _ in self._slots:
                object.__setattr__(module, attr, module._parameters[attr])

    def _loss(self, values: Mapping):
        with self._parameters_set_to(values):
            e = self.loss()
        if not hasattr(e, "shape") or tuple(e.shape) not in ((), (1,)):
            raise UserError(f"loss() must return a scalar Tensor, got "
                            f"{getattr(e, 'shape', type(e).__name__)}")
        return e.reshape(()) if tuple(e.shape) == (1,) else e

    def _at(self, x, y):
        """E at one point, (x, y) 0-d Tensors, recorded when grad mode is on."""
        import chainrule as cr

        values = {}
        for n in self.names:
            p = cr.tensor(self.center[n].astype(self._dtype[n]))
            for c, d in ((x, self.d1[n]), (y, self.d2[n])):
                if d.any():
                    p = p + c * cr.tensor(d.astype(self._dtype[n]))
            values[n] = p
        return self._loss(values)

    def __call__(self, x, y):
        """E at w₀ + x·d₁ + y·d₂; ``x``, ``y`` Tensors (or numbers) of broadcastable shapes."""
        import chainrule as cr

        x = x if isinstance(x, cr.Tensor) else cr.tensor(np.float64(x))
        y = y if isinstance(y, cr.Tensor) else cr.tensor(np.float64(y))
        shape = np.broadcast_shapes(tuple(x.shape), tuple(y.shape))
        if shape == ():
            return self._at(x, y)
        if not cr.is_grad_enabled() or not (x.requires_grad or y.requires_grad):
            xs = np.broadcast_to(x.numpy(), shape)
            ys = np.broadcast_to(y.numpy(), shape)
            return cr.tensor(self._values(xs, ys))
        if x.shape != shape:
            x = x + cr.zeros(shape, dtype=x.dtype)
        if y.shape != shape:
            y = y + cr.zeros(shape, dtype=y.dtype)
        out = [self._at(x[i], y[i]) for i in np.ndindex(shape)]
        return cr.stack(out).reshape(shape)

    def _values(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """E at every (xs[i], ys[i]), under no_grad: one forward pass each, no graph."""
        import chainrule as cr

        out = np.empty(xs.shape)
        with cr.no_grad(), np.errstate(all="ignore"):
            for i in np.ndindex(xs.shape):
                values = {n: cr.tensor((self.center[n] + xs[i] * self.d1[n]
                                        + ys[i] * self.d2[n]).astype(self._dtype[n]))
                          for n in self.names}
                out[i] = float(self._loss(values).item())
        return out

    def grid(self, xrange: tuple[float, float] | None = None,
             yrange: tuple[float, float] | None = None, n: int = 41) -> dict:
        """E on an n×n grid (no graph is built), as the explorer's surfaces:
        ``x``, ``y`` (lists), ``z`` (``z[i][j]`` at ``(x[j], y[i])``, None where not finite),
        ``zmin``, ``zmax``, ``nonfinite``. Ranges default to :meth:`suggested_range`.

        Examples
        --------
        >>> from chainrule.explorer.landscape import ModelLandscape
        >>> model = cr.nn.Linear(1, 1, generator=np.random.default_rng(0))
        >>> land = ModelLandscape.weights(model, lambda: (model(cr.ones(3, 1)) ** 2).sum(),
        ...                               "weight[0, 0]", "bias[0]")
        >>> g = land.grid((-1, 1), (-1, 1), n=3)
        >>> g["z"][1][2]                       # weight 1, bias 0: three outputs of 1
        3.0
        """
        from .compute import surface

        if not isinstance(n, int) or not 2 <= n <= 401:
            raise UserError(f"n must be a whole number from 2 to 401, got {n!r}")
        xd, yd = self.suggested_range()
        xr = xd if xrange is None else xrange
        yr = yd if yrange is None else yrange
        return surface(self, (float(xr[0]), float(xr[1]), float(yr[0]), float(yr[1])), n,
                       gradient=False)

    def directional_derivatives(self, x: float, y: float) -> tuple[float, float]:
        """(d₁·∇E, d₂·∇E) at the point (x, y): the chain rule's answer for ∂E/∂x, ∂E/∂y,
        from one backward pass through the model with respect to its parameters.

        Examples
        --------
        >>> from chainrule.explorer.landscape import ModelLandscape
        >>> model = cr.nn.Linear(1, 1, generator=np.random.default_rng(0))
        >>> land = ModelLandscape.weights(model, lambda: (model(cr.ones(3, 1)) ** 2).sum(),
        ...                               "weight[0, 0]", "bias[0]")
        >>> land.directional_derivatives(1.0, 0.0)       # ∂/∂w and ∂/∂b of 3(w + b)²
        (6.0, 6.0)
        """
        import chainrule as cr

        values = {n: cr.tensor((self.center[n] + x * self.d1[n] + y * self.d2[n])
                               .astype(self._dtype[n]), requires_grad=True)
                  for n in self.names}
        with cr.enable_grad():
            e = self._loss(values)
            grads = cr.grad(e, [values[n] for n in self.names], allow_unused=True)
        g = {n: np.zeros(self.shapes[n]) if gn is None else gn.numpy()
             for n, gn in zip(self.names, grads)}
        return (float(sum((g[n] * self.d1[n]).sum() for n in self.names)),
                float(sum((g[n] * self.d2[n]).sum() for n in self.names)))

    # ------------------------------------------------------------------ paths
    def _coordinates(self, flat: np.ndarray) -> np.ndarray:
        if self._entries is not None:
            return flat[self._entries]
        delta = flat - _flat(self.center, self.names)
        return np.linalg.lstsq(self._D.T, delta, rcond=None)[0]

    def project(self, snapshots: Sequence[Mapping], name: str = "training") -> dict:
        """Parameter snapshots (``model.state_dict()`` taken during training) on the plane.

        Returns
        -------
        dict
            ``name``, ``x``, ``y`` (the explorer's path format), ``E`` (each snapshot's own
            loss), ``E_plane`` (E at its projection, what the contours show there),
            ``residual`` (per snapshot, ‖s − plane‖ / ‖s − w*‖, 0 at w* itself) and
            ``max_residual``. On the two-weights plane ``x``, ``y`` are the two weights'
            values exactly; the residual is how far the other weights were from their
            trained values.

        Examples
        --------
        >>> from chainrule.explorer.landscape import ModelLandscape
        >>> model = cr.nn.Linear(1, 1, generator=np.random.default_rng(0))
        >>> loss = lambda: (model(cr.ones(3, 1)) ** 2).sum()
        >>> opt = cr.optim.SGD(model.parameters(), lr=0.05)
        >>> snaps = [model.state_dict()]
        >>> for _ in range(3):
        ...     opt.zero_grad(); loss().backward(); opt.step(); snaps.append(model.state_dict())
        >>> land = ModelLandscape.weights(model, loss, "weight[0, 0]", "bias[0]")
        >>> path = land.project(snaps, name="SGD")
        >>> bool(path["x"][0] == snaps[0]["weight"].numpy()[0, 0]), path["max_residual"]
        (True, 0.0)
        """
        if isinstance(snapshots, Mapping) or not len(snapshots):
            raise UserError("snapshots must be a non-empty list of state dicts "
                            "(model.state_dict() after each step)")
        trained = _flat(self.trained, self.names)
        xs, ys, es, planes, res = [], [], [], [], []
        for k, s in enumerate(snapshots):
            values = self._checked(s, f"snapshot {k}")
            flat = _flat(values, self.names)
            c = self._coordinates(flat)
            off = flat - _flat(self.center, self.names) - self._D.T @ c
            dist = np.linalg.norm(flat - trained)
            xs.append(float(c[0]))
            ys.append(float(c[1]))
            res.append(float(np.linalg.norm(off) / dist) if dist > 0 else 0.0)
            es.append(self._energy(values))
        planes = self._values(np.array(xs), np.array(ys)).tolist()
        return {"name": str(name), "x": xs, "y": ys, "E": es, "E_plane": planes,
                "residual": res, "max_residual": max(res)}

    def _energy(self, values: Mapping) -> float:
        import chainrule as cr

        with cr.no_grad(), np.errstate(all="ignore"):
            return float(self._loss({n: cr.tensor(values[n].astype(self._dtype[n]))
                                     for n in self.names}).item())

    def suggested_range(self, paths: Sequence[Mapping] = ()) -> tuple[tuple, tuple]:
        """((x0, x1), (y0, y1)): around the trained point — ±max(2, 1.5|w|) for weights as
        the explorer's network landscape does, ±1 for a random plane (the paper's view) —
        widened to hold the ``paths`` with a 10% margin.

        Examples
        --------
        >>> from chainrule.explorer.landscape import ModelLandscape
        >>> model = cr.nn.Linear(2, 2, generator=np.random.default_rng(0))
        >>> land = ModelLandscape.random(model, lambda: (model(cr.ones(3, 2)) ** 2).sum())
        >>> land.suggested_range()
        ((-1.0, 1.0), (-1.0, 1.0))
        """
        a, b = self.trained_point
        if self.plane == "weights":
            ha, hb = max(2.0, 1.5 * abs(a)), max(2.0, 1.5 * abs(b))
        else:
            ha = hb = 1.0
        lo = [a - ha, b - hb]
        hi = [a + ha, b + hb]
        for p in paths:
            for i, key in enumerate(("x", "y")):
                v = np.asarray(p[key], np.float64)
                v = v[np.isfinite(v)]
                if v.size:
                    span = max(v.max() - v.min(), 1e-12)
                    lo[i] = min(lo[i], v.min() - 0.1 * span)
                    hi[i] = max(hi[i], v.max() + 0.1 * span)
        return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))

    def widget(self, paths: Sequence[Mapping] = (), **kwargs):
        """The notebook widget :class:`~chainrule.explorer.Explorer` on this plane: E's
        contours around the trained point, the ``paths`` (from :meth:`project`) drawn on
        them, and the draggable point with ∇E (by chainrule's autodiff through the model).
        ``kwargs`` go to ``Explorer`` (``x``, ``y``, ``eta``, ``xrange``, ``yrange``, ...).

        Examples
        --------
        >>> from chainrule.explorer.landscape import ModelLandscape
        >>> model = cr.nn.Linear(2, 1, generator=np.random.default_rng(0))
        >>> land = ModelLandscape.random(model, lambda: (model(cr.ones(3, 2)) ** 2).sum())
        >>> w = land.widget(x=0.25, y=0.0)                   # needs the widget extra
        >>> abs(w.value - float(land(cr.tensor(0.25), cr.tensor(0.0)).item())) < 1e-12
        True
        """
        from .widget import Explorer

        xr, yr = self.suggested_range(paths)
        kwargs.setdefault("xrange", xr)
        kwargs.setdefault("yrange", yr)
        a, b = self.trained_point
        kwargs.setdefault("x", a)
        kwargs.setdefault("y", b)
        drawn = [{"name": str(p.get("name", f"path {i + 1}")), "x": list(p["x"]),
                  "y": list(p["y"])} for i, p in enumerate(paths)]
        return Explorer(fn=self, paths=drawn, **kwargs)

    # ------------------------------------------------------------------ the figure
    def figure(self, paths: Sequence[Mapping] = (), n: int = 41, xrange=None, yrange=None):
        """A matplotlib ``Figure`` (the ``plot`` extra): E's contours on the plane with the
        trained point and the ``paths`` (from :meth:`project`), and beside it each path's
        E at its snapshots against E at their projections, titled with the largest
        residual fraction, so a path that left the plane is seen to have left it.

        Examples
        --------
        >>> from chainrule.explorer.landscape import ModelLandscape
        >>> model = cr.nn.Linear(2, 2, generator=np.random.default_rng(0))
        >>> land = ModelLandscape.random(model, lambda: (model(cr.ones(3, 2)) ** 2).sum())
        >>> fig = land.figure(n=5)
        >>> [ax.get_xlabel() for ax in fig.axes[:1]]
        ['d₁']
        """
        from ..plots import _figure

        xd, yd = self.suggested_range(paths)
        xr, yr = xrange or xd, yrange or yd
        g = self.grid(xr, yr, n)
        z = np.array([[np.nan if v is None else v for v in row] for row in g["z"]])
        fig = _figure((10.0, 4.2) if paths else (5.2, 4.2))
        axes = fig.subplots(1, 2 if paths else 1, squeeze=False)[0]
        ax = axes[0]
        finite = z[np.isfinite(z)]
        if finite.size and finite.max() > finite.min():
            levels = np.quantile(finite, np.linspace(0, 1, 16))
            levels = np.unique(levels)
            cs = ax.contourf(g["x"], g["y"], z, levels=levels, cmap="viridis")
            ax.contour(g["x"], g["y"], z, levels=levels, colors="k", linewidths=0.3)
            fig.colorbar(cs, ax=ax, label="E")
        a, b = self.trained_point
        ax.plot([a], [b], marker="*", color="white", mec="k", ms=13, ls="", label="trained")
        for p in paths:
            line, = ax.plot(p["x"], p["y"], ".-", lw=1.2, ms=3, label=p["name"])
            ax.plot(p["x"][:1], p["y"][:1], "o", color=line.get_color(), mec="k")
        ax.set_xlabel(self.labels[0])
        ax.set_ylabel(self.labels[1])
        ax.set_xlim(*xr)
        ax.set_ylim(*yr)
        ax.set_title("E on the two weights" if self.plane == "weights"
                     else "E on two filter-normalised directions")
        ax.legend(loc="upper right", fontsize=8)
        if paths:
            ax2 = axes[1]
            for p in paths:
                steps = np.arange(len(p["E"]))
                line, = ax2.plot(steps, p["E"], label=f"{p['name']}: E at the snapshot")
                ax2.plot(steps, p["E_plane"], "--", color=line.get_color(),
                         label=f"{p['name']}: E at its projection")
            ax2.set_yscale("log" if min(min(p["E"]) for p in paths) > 0 else "linear")
            ax2.set_xlabel("step")
            ax2.set_ylabel("E")
            worst = max(p["max_residual"] for p in paths)
            ax2.set_title(f"off the plane: up to {100 * worst:.0f}% of the distance to w*",
                          fontsize=10)
            ax2.legend(fontsize=8)
        return fig
