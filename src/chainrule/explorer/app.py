"""The explorer's FastAPI app: a JSON API over :mod:`.compute` and the static page.

Requests run in parallel in the server's thread pool, with no lock: chainrule's grad and
anomaly modes are per thread, and the state requests share (parsed expressions, the
Figure 5.3 data and trained weights) is cached read-only.
"""

from __future__ import annotations

import importlib
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from .._extras import require
from ..errors import UserError
from . import compute, descent, explain, schemas
from .functions import PRESETS
from .network import WEIGHTS, NetworkLandscape
from .parser import ExpressionError, compile_expression

#: Optional routers, as "module:attribute" of a FastAPI ``APIRouter``; each is included
#: when its module exists (other tabs add their API here; see the package docstring).
OPTIONAL_ROUTERS: tuple[str, ...] = ("chainrule.explorer.walkthrough:router",)

#: Per-tab scripts in ``static/``, loaded by the page in this order when the file exists.
TAB_SCRIPTS: tuple[str, ...] = ("explorer.js", "walkthrough.js", "download.js")

STATIC = Path(__file__).with_name("static")
DEFAULT_DOMAIN = (-3.0, 3.0, -3.0, 3.0)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; "
    # the page may be framed by pages of this machine (Jupyter, VS Code), not by others
    "frame-ancestors 'self' http://127.0.0.1:* http://localhost:* vscode-webview:"
)

#: Field names as the page's labels call them, for validation messages.
FIELD_NAMES = {"lr": "η (lr)", "x": "x", "y": "y", "n": "grid size n", "steps": "steps",
               "eta": "η", "eta_max": "largest η", "direction": "direction φ"}


def _where(loc) -> str:
    """``('body', 'W1', 0, 2)`` as ``W1, row 1, column 3``; ``('body', 'steps')`` as ``steps``."""
    parts = [p for p in loc if p != "body"]
    names = [str(p) for p in parts if isinstance(p, str)]
    idx = [p for p in parts if isinstance(p, int)]
    name = FIELD_NAMES.get(names[-1], names[-1]) if names else "the request"
    if len(idx) == 1:
        name += f", entry {idx[0] + 1}"
    elif len(idx) == 2:
        name += f", row {idx[0] + 1}, column {idx[1] + 1}"
    elif idx:
        name += "[" + "][".join(str(i) for i in idx) + "]"
    return name


def human_message(err: dict) -> str:
    """One pydantic validation error in the words of the page: what, where, what was given."""
    kind, ctx, got = err.get("type", ""), err.get("ctx") or {}, err.get("input")
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "finite_number"):
        what = "must be a whole number" if kind.startswith("int") else "must be a finite number"
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": "at least", "greater_than": "above",
                "less_than_equal": "at most", "less_than": "below"}[kind]
        what = f"must be {sign} {next(iter(ctx.values()))}"
    elif kind == "missing":
        return f"{_where(err.get('loc', ()))} is missing"
    elif kind == "extra_forbidden":
        return f"{_where(err.get('loc', ()))} is not a field of this request"
    elif kind == "literal_error":
        what = f"must be one of {ctx.get('expected')}"
    elif kind in ("too_short", "too_long"):
        what = (f"needs at least {ctx.get('min_length')} entries" if kind == "too_short"
                else f"takes at most {ctx.get('max_length')} entries")
    else:
        msg = str(err.get("msg", "is not valid"))
        what = msg[len("Value error, "):] if msg.startswith("Value error, ") else msg
        if not err.get("loc") or _where(err["loc"]) == "the request":
            return what
        return f"{_where(err['loc'])}: {what}"
    shown = " (it is empty)" if got is None or got == "" else (
        f" (got {got!r})" if isinstance(got, (int, float, str)) else "")
    return f"{_where(err.get('loc', ()))} {what}{shown}"


def plotly_js_path() -> Path:
    """The ``plotly.min.js`` bundled with the installed ``plotly`` Python package."""
    plotly = require("plotly", "explore", "the explorer page")
    path = Path(plotly.__file__).with_name("package_data") / "plotly.min.js"
    if not path.is_file():
        raise UserError(f"the installed plotly package has no {path}; reinstall plotly")
    return path


@lru_cache(maxsize=1)
def _network_objective(problem: str, wx: str, wy: str) -> NetworkLandscape:
    return NetworkLandscape(problem, wx, wy)


def objective(spec: schemas.FunctionSpec):
    """The callable ``f(x, y)`` a request's function spec names."""
    if spec.expression is not None:
        return compile_expression(spec.expression)
    n = spec.network
    return _network_objective(n.problem, n.wx, n.wy)


def _domain(spec, f, domain) -> tuple[float, float, float, float]:
    if domain is not None:
        return (domain.xmin, domain.xmax, domain.ymin, domain.ymax)
    if isinstance(f, NetworkLandscape):
        return f.suggested_domain()
    for p in PRESETS:
        if p.expression == spec.expression:
            return tuple(float(v) for v in p.domain)
    return DEFAULT_DOMAIN


def _ms(t0: float) -> float:
    return round(1000 * (time.perf_counter() - t0), 3)


def catalog() -> dict:
    from ..data import FIGURE_5_3, FIGURE_5_3_LABELS

    return {
        "presets": [p.to_dict() for p in PRESETS],
        "problems": [{"id": p, "label": FIGURE_5_3_LABELS[p]} for p in FIGURE_5_3],
        "weights": [{"id": w, "label": label} for w, label in WEIGHTS],
        "methods": [{"id": m, "label": v[0]} for m, v in descent.METHODS.items()],
        "limits": {"grid": schemas.MAX_GRID, "steps": schemas.MAX_STEPS,
                   "etas": schemas.MAX_ETAS, "coordinate": schemas.COORD},
    }  # fmt: skip


def api_surface(req: schemas.SurfaceRequest) -> dict:
    t0 = time.perf_counter()
    f = objective(req.function)
    domain = _domain(req.function, f, req.domain)
    out = compute.surface(f, domain, req.n, req.gradient)
    out["domain"] = domain
    if isinstance(f, NetworkLandscape):
        from .network import problem_data

        x, t = problem_data(f.problem)
        labels = dict(WEIGHTS)
        out["network"] = {"data_x": x.tolist(), "data_t": t.tolist(),
                          "trained": f.trained_point,
                          "wx_label": labels[f.wx], "wy_label": labels[f.wy]}  # fmt: skip
    out["ms"] = _ms(t0)
    return out


def api_point(req: schemas.PointRequest) -> dict:
    t0 = time.perf_counter()
    f = objective(req.function)
    out = compute.point(f, req.x, req.y, req.direction)
    if isinstance(f, NetworkLandscape):
        fit = f.fit(req.x, req.y)
        out["fit"] = {"x": fit["x"], "y": compute.finite_or_none(fit["y"])}
    out["ms"] = _ms(t0)
    return out


def api_taylor(req: schemas.TaylorRequest) -> dict:
    t0 = time.perf_counter()
    f = objective(req.function)
    curv = compute.curvature(f, req.x, req.y)
    top = req.eta_max
    if top is None:
        top = min(100.0, 2.5 * max(curv["lr_bound"] or 0.0, req.eta or 0.0) or 1.0)
    if req.scale == "log":
        etas = np.geomspace(top * 1e-4, top, req.n)
    else:
        etas = np.linspace(top / req.n, top, req.n)
    out = compute.taylor(f, req.x, req.y, etas, req.eta)
    out["curvature"] = curv
    out["ms"] = _ms(t0)
    return out


def api_descent(req: schemas.DescentRequest) -> dict:
    t0 = time.perf_counter()
    methods = list(dict.fromkeys(req.methods))
    f = objective(req.function)
    paths = [descent.run(f, (req.x, req.y), m, req.lr, req.steps) for m in methods]
    curv = compute.curvature(f, req.x, req.y)
    message = explain.explain(f, paths, req.lr)
    for p in paths:
        for key in ("x", "y", "E", "gx", "gy"):
            p[key] = compute.finite_or_none(p[key])
    return {"paths": paths, "curvature": curv, "message": message, "ms": _ms(t0)}


def _index_html() -> str:
    scripts = "\n".join(
        f'  <script src="/static/{name}" defer></script>'
        for name in TAB_SCRIPTS
        if (STATIC / name).is_file()
    )
    return (STATIC / "index.html").read_text(encoding="utf-8").replace(
        "<!-- TAB_SCRIPTS -->", scripts
    )


def _include_optional_routers(app) -> list[str]:
    included = []
    for spec in OPTIONAL_ROUTERS:
        module_name, attr = spec.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:
                continue
            raise
        app.include_router(getattr(module, attr))
        included.append(spec)
    return included


def create_app(allowed_hosts: list[str] | None = None):
    """Build the explorer's FastAPI app.

    Parameters
    ----------
    allowed_hosts : list of str, optional
        Host header values to accept (protects a loopback server against DNS rebinding);
        None accepts any.
    """
    fastapi = require("fastapi", "explore", "the explorer")
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles
    from starlette.exceptions import HTTPException

    plotly_js = plotly_js_path()
    app = fastapi.FastAPI(
        title="chainrule explorer",
        version="1",
        description="Gradients, Hessians and descent paths computed by chainrule.",
    )
    errors = {400: {"model": schemas.ErrorResponse}, 422: {"model": schemas.ErrorResponse}}

    @app.exception_handler(UserError)
    async def _user_error(request, exc: UserError):
        column = exc.column if isinstance(exc, ExpressionError) else None
        return JSONResponse({"error": str(exc), "column": column}, status_code=400)

    @app.exception_handler(HTTPException)
    async def _http_error(request, exc: HTTPException):
        return JSONResponse({"error": str(exc.detail), "column": None},
                            status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc: RequestValidationError):
        parts = [human_message(err) for err in exc.errors()[:5]]
        text = "; ".join(dict.fromkeys(parts)) or "invalid request"
        return JSONResponse({"error": text + ".", "column": None},
                            status_code=422)

    @app.middleware("http")
    async def _headers(request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    if allowed_hosts is not None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index():
        return HTMLResponse(_index_html())

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly():
        return FileResponse(plotly_js, media_type="text/javascript",
                            headers={"Cache-Control": "max-age=86400"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.get("/api/catalog", response_model=schemas.Catalog,
            summary="Presets, network problems and weights, methods and limits")(catalog)
    app.post("/api/surface", response_model=schemas.SurfaceResponse, responses=errors,
             summary="F and ∇F on a grid (one vectorized forward and backward)")(api_surface)
    app.post("/api/point", response_model=schemas.PointResponse, responses=errors,
             summary="F, ∇F and a directional derivative at one point")(api_point)
    app.post("/api/taylor", response_model=schemas.TaylorResponse, responses=errors,
             summary="Predicted vs actual change for steps −η∇F; Hessian and η bound")(
                 api_taylor)
    app.post("/api/descent", response_model=schemas.DescentResponse, responses=errors,
             summary="Descent paths of several optimizers from one point")(api_descent)
    app.state.optional_routers = _include_optional_routers(app)
    return app
