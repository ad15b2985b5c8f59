"""The explorer's numbers: gradients, grids, Hessians, the Taylor picture, descent paths."""

import math

import numpy as np
import pytest

from chainrule.explorer import compute, descent
from chainrule.explorer.functions import BY_NAME, PRESETS
from chainrule.explorer.parser import Expression

BOWL = Expression("x^2 + 3*y^2")
ROSENBROCK = Expression(BY_NAME["rosenbrock"].expression)


def numpy_of(preset_expression):
    """The same function, written directly in NumPy for an independent reference."""
    table = {
        "x^2 + y^2": lambda x, y: x**2 + y**2,
        "x^2 + 3*y^2": lambda x, y: x**2 + 3 * y**2,
        "0.5*x^2 + 12.5*y^2": lambda x, y: 0.5 * x**2 + 12.5 * y**2,
        "x^2 - y^2": lambda x, y: x**2 - y**2,
        "(1 - x)^2 + 100*(y - x^2)^2": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        "(x^2 + y - 11)^2 + (x + y^2 - 7)^2":
            lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
        "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2":
            lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2
            + (2.625 - x + x * y**3) ** 2,
        "sin(x)*cos(y)": lambda x, y: np.sin(x) * np.cos(y),
        "-exp(-(x-1)^2 - (y-1)^2) - 0.6*exp(-(x+1)^2 - (y+1)^2)":
            lambda x, y: -np.exp(-((x - 1) ** 2) - (y - 1) ** 2)
            - 0.6 * np.exp(-((x + 1) ** 2) - (y + 1) ** 2),
    }  # fmt: skip
    return table[preset_expression]


def central_difference(fn, x, y, h=1e-6):
    return ((fn(x + h, y) - fn(x - h, y)) / (2 * h), (fn(x, y + h) - fn(x, y - h)) / (2 * h))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_every_preset_point_matches_numpy_and_finite_differences(preset):
    ref = numpy_of(preset.expression)
    f = Expression(preset.expression)
    x0, x1, y0, y1 = preset.domain
    rng = np.random.default_rng(1)
    for x, y in zip(rng.uniform(x0, x1, 4), rng.uniform(y0, y1, 4)):
        p = compute.point(f, float(x), float(y))
        assert p["f"] == pytest.approx(ref(x, y), rel=1e-12, abs=1e-12)
        gx, gy = central_difference(ref, x, y)
        scale = 1 + abs(gx) + abs(gy)
        assert p["gx"] == pytest.approx(gx, abs=1e-6 * scale)
        assert p["gy"] == pytest.approx(gy, abs=1e-6 * scale)
    # the start point lies inside the view box
    assert x0 <= preset.start[0] <= x1 and y0 <= preset.start[1] <= y1


@pytest.mark.parametrize("name, minimum", [
    ("bowl", (0, 0)), ("elongated", (0, 0)), ("rosenbrock", (1, 1)),
    ("himmelblau", (3, 2)), ("beale", (3, 0.5)),
])  # fmt: skip
def test_known_minima_have_zero_gradient(name, minimum):
    p = compute.point(Expression(BY_NAME[name].expression), *map(float, minimum))
    assert p["norm"] == pytest.approx(0.0, abs=1e-12)
    assert p["f"] == pytest.approx(0.0, abs=1e-12)


def test_point_readouts_closed_form():
    p = compute.point(BOWL, 1.0, 2.0, direction=30.0)
    assert (p["f"], p["gx"], p["gy"]) == (13.0, 2.0, 12.0)
    assert p["norm"] == pytest.approx(math.hypot(2, 12))
    assert p["angle"] == pytest.approx(math.degrees(math.atan2(12, 2)))
    u = (math.cos(math.radians(30)), math.sin(math.radians(30)))
    assert p["directional"] == pytest.approx(2 * u[0] + 12 * u[1])
    # eq. 2.1: ∇F·u = ‖∇F‖ cos θ, with θ the angle between u and the gradient
    assert p["directional"] == pytest.approx(p["norm"] * math.cos(math.radians(p["theta"])))
    along = compute.point(BOWL, 1.0, 2.0, direction=p["angle"])
    assert along["directional"] == pytest.approx(along["norm"])  # largest along ∇F
    assert along["theta"] == pytest.approx(0.0, abs=1e-6)
    assert p["finite"] and "message" not in p


def test_non_finite_values_are_reported_not_hidden():
    p = compute.point(Expression("log(x)"), -1.0, 0.0)
    assert p["f"] is None and not p["finite"]
    assert "not finite" in p["message"]
    q = compute.point(Expression("sqrt(x^2 + y^2)"), 0.0, 0.0)
    assert q["f"] == 0.0 and q["gx"] is None and not q["finite"]


def test_surface_is_one_vectorized_pass_equal_to_pointwise():
    s = compute.surface(BOWL, (-2.0, 2.0, -1.0, 3.0), 9)
    xs, ys = np.array(s["x"]), np.array(s["y"])
    assert xs.shape == (9,) and xs[0] == -2 and xs[-1] == 2 and ys[0] == -1 and ys[-1] == 3
    z, gx, gy = np.array(s["z"]), np.array(s["gx"]), np.array(s["gy"])
    # z[i][j] is at (x[j], y[i])
    X, Y = np.meshgrid(xs, ys)
    np.testing.assert_allclose(z, X**2 + 3 * Y**2, rtol=1e-14)
    np.testing.assert_allclose(gx, 2 * X, rtol=1e-14)
    np.testing.assert_allclose(gy, 6 * Y, rtol=1e-14)
    p = compute.point(BOWL, xs[3], ys[5])
    assert (p["f"], p["gx"], p["gy"]) == (z[5, 3], gx[5, 3], gy[5, 3])
    assert s["zmin"] == pytest.approx(z.min()) and s["zmax"] == pytest.approx(z.max())
    assert s["nonfinite"] == 0
    lean = compute.surface(BOWL, (-2.0, 2.0, -1.0, 3.0), 9, gradient=False)
    assert lean["gx"] is None and lean["z"] == s["z"]


def test_surface_counts_and_blanks_non_finite_points():
    s = compute.surface(Expression("log(x)"), (-1.0, 1.0, -1.0, 1.0), 5)
    assert s["nonfinite"] == 15  # x in {-1, -0.5, 0}: nan, nan, -inf
    assert s["z"][0][:3] == [None, None, None]
    assert s["z"][0][4] == 0.0


def test_hessian_closed_forms():
    np.testing.assert_array_equal(compute.hessian(BOWL, 0.3, -0.2), [[2, 0], [0, 6]])
    # Rosenbrock at (1, 1): [[2 + 1200x² − 400y, −400x], [−400x, 200]] = [[802, −400], [−400, 200]]
    np.testing.assert_allclose(compute.hessian(ROSENBROCK, 1.0, 1.0),
                               [[802, -400], [-400, 200]], rtol=1e-12)
    x, y = 0.4, 1.2  # sin x cos y: [[−sin x cos y, −cos x sin y], [−cos x sin y, −sin x cos y]]
    h = compute.hessian(Expression("sin(x)*cos(y)"), x, y)
    a, b = -math.sin(x) * math.cos(y), -math.cos(x) * math.sin(y)
    np.testing.assert_allclose(h, [[a, b], [b, a]], rtol=1e-12)
    for flat in ("x + 2*y", "7"):
        np.testing.assert_array_equal(compute.hessian(Expression(flat), 1.0, 1.0), np.zeros((2, 2)))


def test_curvature_gives_the_step_size_bound():
    c = compute.curvature(BOWL, 1.0, 1.0)
    assert c["eigenvalues"] == pytest.approx([2.0, 6.0])
    assert c["lr_bound"] == pytest.approx(2 / 6)
    assert "η < 2/λ_max" in c["text"] and "0.3333" in c["text"]
    saddle = compute.curvature(Expression("x^2 - y^2"), 0.0, 0.0)
    assert saddle["lr_bound"] == pytest.approx(1.0)
    cap = compute.curvature(Expression("-x^2 - y^2"), 0.0, 0.0)
    assert cap["lr_bound"] is None and "no step-size bound" in cap["text"]


def test_taylor_predicted_and_actual_change():
    etas = np.array([1e-3, 0.1, 0.5])
    t = compute.taylor(BOWL, 1.0, 1.0, etas, at=0.2)
    g2 = 2.0**2 + 6.0**2
    np.testing.assert_allclose(t["predicted"], -etas * g2)
    # exact for a quadratic: F(w − η g) − F(w) = −η|g|² + ½η² gᵀHg
    gHg = 2 * 2.0**2 + 6 * 6.0**2
    np.testing.assert_allclose(t["actual"], -etas * g2 + 0.5 * etas**2 * gHg, rtol=1e-10)
    assert t["breaks_at"] == 0.1  # 28% off already at η = 0.1 (−4 vs −2.88)
    assert t["at_eta"]["eta"] == 0.2
    assert t["at_eta"]["actual"] == pytest.approx(-0.2 * g2 + 0.5 * 0.04 * gHg)
    flat = compute.taylor(BOWL, 0.0, 0.0, etas)
    assert flat["breaks_at"] is None and flat["at_eta"] is None
    bad = compute.taylor(Expression("log(x)"), -1.0, 0.0, etas)
    assert bad["predicted"] is None and "not finite" in bad["message"]


def test_gradient_descent_path_follows_the_update_rule():
    lr, w = 0.1, np.array([1.6, 1.2])
    path = descent.run(BOWL, tuple(w), "gd", lr, 20)
    assert path["status"] == "ok" and len(path["x"]) == 21
    for k in range(21):
        assert (path["x"][k], path["y"][k]) == pytest.approx(tuple(w), rel=1e-13)
        assert path["E"][k] == pytest.approx(w[0] ** 2 + 3 * w[1] ** 2, rel=1e-13)
        w = w - lr * np.array([2 * w[0], 6 * w[1]])


def test_momentum_and_adam_paths_follow_their_published_rules():
    grad = lambda w: np.array([2 * w[0], 6 * w[1]])
    lr, mu = 0.05, 0.9
    w, b = np.array([1.6, 1.2]), None
    path = descent.run(BOWL, tuple(w), "momentum", lr, 10)
    for k in range(11):
        assert (path["x"][k], path["y"][k]) == pytest.approx(tuple(w), rel=1e-12)
        g = grad(w)
        b = g if b is None else mu * b + g
        w = w - lr * b
    w, b = np.array([1.6, 1.2]), None
    path = descent.run(BOWL, tuple(w), "nesterov", lr, 10)
    for k in range(11):
        assert (path["x"][k], path["y"][k]) == pytest.approx(tuple(w), rel=1e-12)
        g = grad(w)
        b = g if b is None else mu * b + g
        w = w - lr * (g + mu * b)
    w, m, v = np.array([1.6, 1.2]), 0.0, 0.0
    path = descent.run(BOWL, tuple(w), "adam", lr, 10)
    for k in range(11):
        assert (path["x"][k], path["y"][k]) == pytest.approx(tuple(w), rel=1e-12)
        g = grad(w)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        mhat, vhat = m / (1 - 0.9 ** (k + 1)), v / (1 - 0.999 ** (k + 1))
        w = w - lr * mhat / (np.sqrt(vhat) + 1e-8)
    w, v = np.array([1.6, 1.2]), 0.0
    path = descent.run(BOWL, tuple(w), "rmsprop", lr, 10)
    for k in range(11):
        assert (path["x"][k], path["y"][k]) == pytest.approx(tuple(w), rel=1e-12)
        g = grad(w)
        v = 0.99 * v + 0.01 * g**2
        w = w - lr * g / (np.sqrt(v) + 1e-8)


@pytest.mark.parametrize("method", sorted(descent.METHODS))
def test_every_method_converges_on_the_bowl(method):
    path = descent.run(BOWL, (1.6, 1.2), method, 0.05, 400)
    assert path["status"] == "ok"
    assert path["E"][-1] < 1e-3 * path["E"][0]


def test_divergence_stops_and_says_so():
    # λ_max = 6, so η = 0.4 > 2/6 diverges along y
    path = descent.run(BOWL, (1.6, 1.2), "gd", 0.4, 500)
    assert path["status"] == "diverged"
    k = path["diverged_at"]
    assert k is not None and k < 500 and len(path["x"]) == k + 1
    assert "diverged at step" in path["message"]
    assert all(math.isfinite(v) for v in path["x"] + path["y"] + path["E"])
    # below the bound it converges
    assert descent.run(BOWL, (1.6, 1.2), "gd", 0.3, 500)["status"] == "ok"
    # a non-finite E is caught at once
    nan_path = descent.run(Expression("log(x)"), (-1.0, 0.0), "gd", 0.1, 10)
    assert nan_path["status"] == "diverged" and nan_path["diverged_at"] == 0
    assert "nan" in nan_path["message"]


def test_finite_or_none():
    assert compute.finite_or_none([1.0, np.nan, np.inf, -np.inf]) == [1.0, None, None, None]
    assert compute.finite_or_none(np.float64("nan")) is None
    assert compute.finite_or_none([[1, 2]]) == [[1.0, 2.0]]
