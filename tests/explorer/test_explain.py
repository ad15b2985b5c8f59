"""The words for a failed descent are true for each case: unbounded below (the saddle),
too large a step (fast and slow divergence, against η < 2/λ_max), nothing when all is well."""

import re

import pytest

from chainrule.explorer import descent, explain
from chainrule.explorer.parser import compile_expression

BOWL = compile_expression("x^2 + 3*y^2")
SADDLE = compile_expression("x^2 - y^2")


def words(f, start, lr, steps, method="gd"):
    path = descent.run(f, start, method, lr, steps)
    return path, explain.explain(f, [path], lr)


def test_saddle_is_unbounded_below_along_y_not_larger_curvature():
    path, msg = words(SADDLE, (1.5, 0.05), 0.1, 1000)
    assert path["status"] == "diverged"
    assert "unbounded below" in msg and "curvature" not in msg
    assert "negative eigenvalue λ = -2 with eigenvector (0.00, 1.00)" in msg
    assert re.search(r"ran off along \(-?0\.00, 1\.00\)", msg)


def test_slow_divergence_above_the_bound_is_reported():
    path, msg = words(BOWL, (1.6, 1.2), 0.339, 100)
    assert path["status"] == "ok" and path["E"][-1] > 3000  # E from 6.9 to ~3,464
    assert "E grew from 6.88 to 3464 over 100 steps" in msg
    assert "2/λ_max = 0.3333" in msg
    # the growth factor of the error along the top eigenvector is |1 − 0.339·6|
    assert f"{abs(1 - 0.339 * 6):.4g}" in msg


def test_fast_divergence_names_the_bound():
    path, msg = words(BOWL, (1.6, 1.2), 10, 100)
    assert path["status"] == "diverged"
    assert "diverged at step" in msg and "η = 10 is above the bound" in msg
    assert "unbounded" not in msg


@pytest.mark.parametrize("method, lr", [("gd", 0.3), ("momentum", 0.05), ("adam", 0.1)])
def test_no_words_when_descent_works(method, lr):
    path, msg = words(BOWL, (1.6, 1.2), lr, 200, method)
    assert path["E"][-1] < path["E"][0] and msg is None


def test_momentum_uses_its_own_bound():
    _, msg = words(BOWL, (1.6, 1.2), 0.7, 100, "momentum")
    assert "2(1 + β)/λ_max with β = 0.9 = 0.6333" in msg


def test_larger_curvature_along_the_path_is_found():
    # F = x⁴ has λ_max = 12x²: 0.12 at x = 0.1 (bound 16.7 > η) but 48 at x = 2 (bound
    # 0.0417 < η). A path that went from one to the other and whose E grew is explained so.
    f = compile_expression("x^4 + 0*y")
    path = {"method": "gd", "label": "Gradient descent", "status": "ok", "message": None,
            "x": [0.1, -0.5, 2.0], "y": [0.0, 0.0, 0.0], "E": [1e-4, 0.0625, 16.0]}
    msg = explain.explain_path(f, path, 0.1)
    assert "below the bound at the start" in msg and "at step 2, (2, 0)" in msg
    assert "λ_max = 48" in msg and "0.04167 < η" in msg
    # and is not said when the curvature along the path stays small
    path["x"] = [0.1, -0.2, 0.3]
    assert "curvature is larger" not in explain.explain_path(f, path, 0.1)
