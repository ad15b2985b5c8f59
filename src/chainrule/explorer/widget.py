"""The explorer as a notebook widget: F(x, y), its contour and the point's gradient, in a cell.

:class:`Explorer` is an `anywidget <https://anywidget.dev>`_ widget (JupyterLab, Notebook 7,
VS Code, Colab): a Python object with traits, and one ES module, ``static/widget.js``,
shipped in the package, that draws on a canvas and makes no network request. Every number
is computed in the kernel by chainrule: F and ∇F at the point by autodiff, F on the grid
for the contour by one vectorized pass. The front end only draws and reports where the
point was dragged.
"""

from __future__ import annotations

import math
from pathlib import Path

import anywidget
import numpy as np
import traitlets

from ..errors import UserError
from . import compute

STATIC = Path(__file__).with_name("static")
MAX_RESOLUTION = 201
# the traits the front end may change; the rest are the kernel's answers
FRONT_END_WRITABLE = frozenset({"x", "y", "eta", "function"})


class FunctionError(UserError):
    """The explorer's function failed at a point, or returned something that is not one
    chainrule Tensor value per point; the message names the point and what to change.

    Examples
    --------
    >>> from chainrule.explorer.widget import FunctionError
    >>> issubclass(FunctionError, ValueError)
    True
    """


def _checked(fn, name: str):
    """``fn`` with its failures turned into :class:`FunctionError` messages that say what
    to write instead."""
    import chainrule as cr

    def f(x, y):
        where = (f"at x = {float(x.numpy()):g}, y = {float(y.numpy()):g}"
                 if x.ndim == 0 else "on the grid")
        try:
            out = fn(x, y)
        except UserError:
            raise
        except Exception as e:
            raise FunctionError(f"{name}(x, y) raised {type(e).__name__} {where}: {e}") from e
        if not isinstance(out, cr.Tensor):
            raise FunctionError(
                f"{name}(x, y) returned {type(out).__name__}, not a chainrule Tensor: build "
                "it from x and y with chainrule's ops (x**2, cr.sin(x), ...), not math or "
                "NumPy functions, so that chainrule can differentiate it")
        if x.ndim == 0 and out.shape not in ((), (1,)):
            raise FunctionError(f"{name}(x, y) returned shape {tuple(out.shape)} {where}: it "
                                "must return one number for scalar x and y")
        return out

    return f


def _finite_number(name, value, low=-math.inf, high=math.inf):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise traitlets.TraitError(f"{name} must be a number, got {value!r}") from None
    value = float(value)
    if not (math.isfinite(value) and low < value <= high):
        bounds = "a finite number" if low == -math.inf else f"a number above {low:g} " \
            f"and at most {high:g}"
        raise traitlets.TraitError(f"{name} must be {bounds}, got {value!r}") from None
    return value


def _interval(name, value):
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise traitlets.TraitError(
            f"{name} must be two numbers (low, high), got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise traitlets.TraitError(f"{name} must be finite with low < high, got {value!r}")
    return [lo, hi]


def _path(i, p):
    if not isinstance(p, dict) or not {"x", "y"} <= set(p):
        raise traitlets.TraitError(
            f"paths[{i}] must be a dict with 'x' and 'y' lists (and a 'name'), got {p!r:.80}")
    unknown = set(p) - {"name", "x", "y"}
    if unknown:
        raise traitlets.TraitError(f"paths[{i}] has unknown keys {sorted(unknown)}; "
                                   "use 'name', 'x' and 'y'")
    coords = []
    for key in ("x", "y"):
        try:
            a = np.asarray(p[key], dtype=np.float64)
        except (TypeError, ValueError):
            raise traitlets.TraitError(f"paths[{i}]['{key}'] must be a list of numbers") from None
        if a.ndim != 1 or a.size == 0:
            raise traitlets.TraitError(f"paths[{i}]['{key}'] must be a non-empty 1-D list of "
                                       f"numbers, got shape {a.shape}")
        coords.append(a)
    if coords[0].size != coords[1].size:
        raise traitlets.TraitError(f"paths[{i}] has {coords[0].size} x values and "
                                   f"{coords[1].size} y values; they must pair up")
    name = p.get("name", f"path {i + 1}")
    if not isinstance(name, str):
        raise traitlets.TraitError(f"paths[{i}]['name'] must be a string, got {name!r}")
    # non-finite points (a diverged run) become gaps in the drawn line
    return {"name": name, "x": compute.finite_or_none(coords[0]),
            "y": compute.finite_or_none(coords[1])}


class Explorer(anywidget.AnyWidget):
    """F(x, y) in a notebook cell: its contour, the draggable point, ∇F there and the step
    −η∇F, all computed in the kernel by chainrule.

    Parameters
    ----------
    function : str, optional
        F in the explorer's grammar (``"x^2 + 3*y^2"``, parsed by
        :mod:`chainrule.explorer.parser`, never evaluated as Python) or a preset's name
        (``"rosenbrock"``: its expression, domain, start and η). Default ``"x^2 + 3*y^2"``.
    fn : callable, optional
        Instead of ``function``: any Python function of two chainrule Tensors returning a
        Tensor, e.g. a model's loss over two directions in weight space. It is called on
        0-d Tensors for the point (gradient by chainrule's autodiff) and, for the contour,
        once on the whole grid when it works elementwise, otherwise once per grid node.
    x, y : float
        The point (default: the preset's start, else the domain's centre).
    eta : float
        The step size η of :meth:`step` (0 < η ≤ 100).
    xrange, yrange : (float, float)
        The domain drawn (default (−3, 3), or the preset's).
    paths : list of dict
        Lines drawn over the contour, each ``{"name": str, "x": [...], "y": [...]}`` (for
        example a descent path projected on the plane of ``fn``); non-finite values are gaps.
    resolution : int
        Grid nodes per axis for the contour (2 to 201).

    Attributes
    ----------
    value, gradient
        F and [∂F/∂x, ∂F/∂y] at (x, y), updated whenever the point moves, from Python or by
        a drag in the cell; ``None`` where not finite.
    error : str
        What went wrong with the function, shown in the widget too ("" when nothing). A
        change made from Python that fails also raises :class:`FunctionError` (or
        :class:`~chainrule.explorer.parser.ExpressionError`); one made in the cell does not.
    surface : dict
        The grid drawn: ``x``, ``y`` (node coordinates), ``z`` (rows along y), ``zmin``,
        ``zmax``, ``nonfinite``.

    Examples
    --------
    >>> from chainrule.explorer import Explorer
    >>> w = Explorer("x^2 + 3*y^2", x=1.0, y=2.0)
    >>> w.value, w.gradient
    (13.0, [2.0, 12.0])
    >>> w.y = 0.5                       # the point moves in the cell too
    >>> w.gradient
    [2.0, 3.0]
    >>> w.eta = 0.25
    >>> w.step()                        # w <- w - eta * grad F
    >>> (w.x, w.y)
    (0.5, -0.25)
    >>> v = Explorer(fn=lambda x, y: cr.tanh(x) * y, x=0.0, y=3.0)
    >>> v.gradient
    [3.0, 0.0]
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    function = traitlets.Unicode("").tag(sync=True)
    label = traitlets.Unicode("").tag(sync=True)
    x = traitlets.Float(0.0).tag(sync=True)
    y = traitlets.Float(0.0).tag(sync=True)
    eta = traitlets.Float(0.1).tag(sync=True)
    xrange = traitlets.List([-3.0, 3.0]).tag(sync=True)
    yrange = traitlets.List([-3.0, 3.0]).tag(sync=True)
    resolution = traitlets.Int(61).tag(sync=True)
    paths = traitlets.List([]).tag(sync=True)
    value = traitlets.Float(None, allow_none=True, read_only=True).tag(sync=True)
    gradient = traitlets.List([None, None], read_only=True).tag(sync=True)
    surface = traitlets.Dict({}, read_only=True).tag(sync=True)
    error = traitlets.Unicode("", read_only=True).tag(sync=True)

    def __init__(self, function: str | None = None, *, fn=None, x: float | None = None,
                 y: float | None = None, eta: float | None = None, xrange=None, yrange=None,
                 paths=(), resolution: int = 61, **kwargs):
        from .functions import BY_NAME

        self._ready = False
        self._from_front = False
        self._errors: dict[str, str] = {}
        if fn is not None and function is not None:
            raise UserError("give either function (an expression) or fn (a callable), not both")
        preset = BY_NAME.get(function) if function is not None else None
        if fn is not None:
            if not callable(fn):
                raise UserError(f"fn must be a callable fn(x, y), got {type(fn).__name__}")
            name = getattr(fn, "__name__", "fn")
            name = "fn" if name == "<lambda>" else name
            self._f = _checked(fn, name)
            text, label = "", f"F(x, y) = {name}(x, y)"
        else:
            text = preset.expression if preset else (function or "x^2 + 3*y^2")
            self._f = self._parse(text)
            label = ""
        if preset is not None:
            xrange = xrange if xrange is not None else preset.domain[:2]
            yrange = yrange if yrange is not None else preset.domain[2:]
            x = preset.start[0] if x is None else x
            y = preset.start[1] if y is None else y
            eta = preset.lr if eta is None else eta
        xrange = [-3.0, 3.0] if xrange is None else xrange
        yrange = [-3.0, 3.0] if yrange is None else yrange
        super().__init__(function=text, label=label, xrange=xrange, yrange=yrange,
                         paths=list(paths), resolution=resolution,
                         eta=0.1 if eta is None else eta, **kwargs)
        self.x = (self.xrange[0] + self.xrange[1]) / 2 if x is None else x
        self.y = (self.yrange[0] + self.yrange[1]) / 2 if y is None else y
        self.on_msg(self._on_message)
        self._ready = True
        self._attempt("surface", self._update_surface)
        self._attempt("point", self._update_point)

    # ------------------------------------------------------------------ validation
    @traitlets.validate("x", "y")
    def _valid_coordinate(self, proposal):
        return _finite_number(proposal["trait"].name, proposal["value"])

    @traitlets.validate("eta")
    def _valid_eta(self, proposal):
        return _finite_number("eta", proposal["value"], 0.0, 100.0)

    @traitlets.validate("xrange", "yrange")
    def _valid_range(self, proposal):
        return _interval(proposal["trait"].name, proposal["value"])

    @traitlets.validate("resolution")
    def _valid_resolution(self, proposal):
        n = proposal["value"]
        if not 2 <= n <= MAX_RESOLUTION:
            raise traitlets.TraitError(f"resolution must be from 2 to {MAX_RESOLUTION}, got {n}")
        return n

    @traitlets.validate("paths")
    def _valid_paths(self, proposal):
        value = proposal["value"]
        if isinstance(value, dict) or not isinstance(value, (list, tuple)):
            raise traitlets.TraitError("paths must be a list of {'name', 'x', 'y'} dicts, got "
                                       f"{type(value).__name__}")
        return [_path(i, p) for i, p in enumerate(value)]

    # ------------------------------------------------------------------ computing
    @staticmethod
    def _parse(text: str):
        from .parser import compile_expression

        return compile_expression(text)

    def _attempt(self, part: str, work) -> None:
        """Run ``work``; a failure becomes the ``error`` trait, and is raised again unless
        the change came from the front end (where the message in the widget is the answer)."""
        try:
            work()
        except Exception as e:
            self._errors[part] = str(e)
            self._publish_errors()
            if not self._from_front:
                raise
        else:
            self._publish_errors()

    def _publish_errors(self):
        self.set_trait("error", " ".join(m for m in self._errors.values() if m))

    def _grid(self) -> dict:
        """F on the grid: one vectorized pass when ``fn`` works elementwise (checked against
        single-point calls), else one call per node."""
        import chainrule as cr

        domain = (*self.xrange, *self.yrange)
        n = self.resolution
        try:
            grid = compute.surface(self._f, domain, n, gradient=False)
            z = np.array(grid["z"], dtype=np.float64)
            ok = z.shape == (n, n)
            for i, j in ((0, 0), (n - 1, n // 3), (n // 2, n - 1)):
                one = compute.point(self._f, grid["x"][j], grid["y"][i])["f"]
                ok = ok and (one is None and not np.isfinite(z[i, j])
                             or one is not None and bool(np.isclose(z[i, j], one, 1e-9, 1e-12)))
        except Exception:  # e.g. a result that does not broadcast to the grid
            ok = False
        if not ok:  # not elementwise: one call per node
            xs, ys = np.linspace(*self.xrange, n), np.linspace(*self.yrange, n)
            z = np.empty((n, n))
            with cr.no_grad(), np.errstate(all="ignore"):
                for i, yv in enumerate(ys):
                    for j, xv in enumerate(xs):
                        z[i, j] = float(self._f(cr.tensor(xv), cr.tensor(yv)).item())
            finite = np.isfinite(z)
            grid = {"x": xs.tolist(), "y": ys.tolist(), "z": compute.finite_or_none(z),
                    "zmin": float(z[finite].min()) if finite.any() else None,
                    "zmax": float(z[finite].max()) if finite.any() else None,
                    "nonfinite": int((~finite).sum())}
        return {k: grid[k] for k in ("x", "y", "z", "zmin", "zmax", "nonfinite")}

    def _update_surface(self):
        self._errors.pop("surface", None)
        self.set_trait("surface", self._grid())

    def _update_point(self):
        self._errors.pop("point", None)
        self._errors.pop("step", None)
        try:
            p = compute.point(self._f, self.x, self.y)
        except Exception:
            self.set_trait("value", None)
            self.set_trait("gradient", [None, None])
            raise
        self.set_trait("value", p["f"])
        self.set_trait("gradient", [p["gx"], p["gy"]])
        if not p["finite"]:
            self._errors["point"] = p["message"]

    @traitlets.observe("x", "y")
    def _point_moved(self, change):
        if self._ready:
            self._attempt("point", self._update_point)

    @traitlets.observe("xrange", "yrange", "resolution")
    def _domain_changed(self, change):
        if self._ready:
            self._attempt("surface", self._update_surface)

    @traitlets.observe("function")
    def _function_changed(self, change):
        if not self._ready or not change["new"]:
            return

        def work():
            self._errors.pop("function", None)
            self._f = self._parse(change["new"])
            self.set_trait("label", "")
            self._attempt("surface", self._update_surface)
            self._attempt("point", self._update_point)

        self._attempt("function", work)

    # ------------------------------------------------------------------ actions
    def step(self, n: int = 1) -> None:
        """Move the point ``n`` times by −η∇F (the text's w ← w − η∇E); the front end's
        *One step* button and Enter call this.

        Examples
        --------
        >>> from chainrule.explorer import Explorer
        >>> w = Explorer("x^2 + y^2", x=1.0, y=-2.0, eta=0.25)
        >>> w.step(2)                   # each step halves the point on this bowl
        >>> (w.x, w.y)
        (0.25, -0.5)
        """
        for _ in range(n):
            gx, gy = self.gradient
            if gx is None or gy is None or self.value is None:
                raise FunctionError(f"cannot step from ({self.x:g}, {self.y:g}): F or its "
                                    "gradient is not finite there")
            with self.hold_trait_notifications():
                self.x, self.y = self.x - self.eta * gx, self.y - self.eta * gy

    def set_state(self, sync_data):
        """Apply a change sent by the front end (only x, y, eta and function are taken);
        an invalid value is refused with a message in ``error``, not an exception."""
        sync_data = {k: v for k, v in sync_data.items() if k in FRONT_END_WRITABLE}
        self._from_front = True
        try:
            super().set_state(sync_data)
        except traitlets.TraitError as e:
            self._errors["input"] = str(e)
            self._publish_errors()
            self.send_state(list(sync_data))  # the front end shows the kernel's value again
        else:
            if self._errors.pop("input", None) is not None:
                self._publish_errors()
        finally:
            self._from_front = False

    def _on_message(self, widget, content, buffers):
        if isinstance(content, dict) and content.get("type") == "step":
            self._from_front = True
            try:
                self._attempt("step", self.step)
            finally:
                self._from_front = False
