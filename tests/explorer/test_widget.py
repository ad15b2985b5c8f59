"""The notebook Explorer's Python side: its traits follow chainrule, both ways."""

import math

import numpy as np
import pytest

import chainrule as cr

pytest.importorskip("anywidget", reason="the Explorer needs the widget extra")

from chainrule.explorer import Explorer, show  # noqa: E402
from chainrule.explorer.parser import ExpressionError  # noqa: E402
from chainrule.explorer.widget import FunctionError  # noqa: E402


def reference(f, x, y):
    xt, yt = cr.tensor(x, requires_grad=True), cr.tensor(y, requires_grad=True)
    out = f(xt, yt)
    out.backward()
    return float(out.item()), [float(xt.grad.item()), float(yt.grad.item())]


@pytest.mark.parametrize("x,y", [(0.3, -1.7), (2.5, 0.01), (-1.0, 1.0)])
def test_setting_x_and_y_moves_value_and_gradient_to_chainrules(x, y):
    f = lambda a, b: cr.sin(a) * cr.exp(b) + a * a * b
    w = Explorer("sin(x)*exp(y) + x^2*y")
    w.x, w.y = x, y
    value, grad = reference(f, x, y)
    assert w.value == pytest.approx(value, abs=1e-12)
    assert w.gradient == pytest.approx(grad, abs=1e-12)
    v = Explorer(fn=f, x=x, y=y)
    assert v.value == pytest.approx(value, abs=1e-12)
    assert v.gradient == pytest.approx(grad, abs=1e-12)


def test_the_front_end_changes_x_and_the_kernel_answers():
    w = Explorer("x^2 + 3*y^2", x=1.0, y=1.0)
    w.set_state({"x": -0.5, "y": 2.0, "value": 123.0})  # value is the kernel's, not taken
    assert (w.x, w.y) == (-0.5, 2.0)
    assert w.value == pytest.approx(0.25 + 12.0, abs=1e-12)
    assert w.gradient == pytest.approx([-1.0, 12.0], abs=1e-12)


def test_grid_matches_chainrule_elementwise_and_for_a_non_elementwise_fn():
    w = Explorer("x^2 - y", xrange=(-1, 2), yrange=(0, 1), resolution=5)
    s = w.surface
    assert s["x"] == pytest.approx(np.linspace(-1, 2, 5)) and len(s["z"]) == 5
    assert s["z"][1][3] == pytest.approx(s["x"][3] ** 2 - s["y"][1], abs=1e-12)
    # a fn that sums its inputs cannot run on the grid at once: it is called per node
    v = Explorer(fn=lambda x, y: (x * x - y).sum(), xrange=(-1, 2), yrange=(0, 1), resolution=5)
    assert np.allclose(np.array(v.surface["z"]), np.array(s["z"]), atol=1e-12)


def test_step_is_w_minus_eta_grad():
    w = Explorer("x^2 + 3*y^2", x=1.6, y=1.2, eta=0.1)
    gx, gy = w.gradient
    w.step()
    assert (w.x, w.y) == pytest.approx((1.6 - 0.1 * gx, 1.2 - 0.1 * gy), abs=1e-15)
    w._on_message(w, {"type": "step"}, [])  # the front end's button
    assert w.y == pytest.approx(1.2 * 0.4 * 0.4, abs=1e-12)


def test_preset_name_gives_its_domain_start_and_eta():
    w = Explorer("rosenbrock")
    assert w.function == "(1 - x)^2 + 100*(y - x^2)^2"
    assert (w.xrange, w.yrange, w.x, w.y, w.eta) == ([-2, 2], [-1, 3], -1.2, 1.0, 0.001)


def test_bad_expression_is_a_clear_error():
    with pytest.raises(ExpressionError, match="column"):
        Explorer("x^^2")
    w = Explorer("x^2")
    with pytest.raises(ExpressionError):
        w.function = "sin(x"
    assert "sin(x" not in w.error and "column" in w.error or "expected" in w.error
    w.set_state({"function": "y +* 2"})  # typed in the cell: no exception, the message shows
    assert "column" in w.error
    assert w.value == 0.0  # still the old F, still working
    w.set_state({"function": "x + y"})
    assert w.error == "" and w.gradient == [1.0, 1.0]


def test_a_failing_fn_says_where_and_the_widget_keeps_working():
    def fn(x, y):
        if float(x.numpy().max()) > 1:
            raise ZeroDivisionError("too far")
        return x * y

    w = Explorer(fn=fn, xrange=(-1, 1), yrange=(-1, 1), x=0.5, y=0.5)
    with pytest.raises(FunctionError, match=r"fn\(x, y\) raised ZeroDivisionError at x = 2"):
        w.x = 2.0
    assert "ZeroDivisionError" in w.error and w.value is None
    w.set_state({"x": 3.0})  # a drag: no exception, the error trait says it
    assert "x = 3" in w.error
    w.set_state({"x": 0.25})
    assert w.error == "" and w.value == pytest.approx(0.125)


def test_fn_must_return_a_chainrule_tensor_of_one_number():
    with pytest.raises(FunctionError, match="not a chainrule Tensor"):
        Explorer(fn=lambda x, y: math.sin(float(x.item())))
    with pytest.raises(FunctionError, match=r"shape \(2,\)"):
        Explorer(fn=lambda x, y: cr.stack([x, y]))
    with pytest.raises(cr.UserError, match="callable"):
        Explorer(fn=3)
    with pytest.raises(cr.UserError, match="not both"):
        Explorer("x", fn=lambda x, y: x)


def test_non_finite_values_are_reported_not_raised():
    w = Explorer("log(x)", x=-1.0, y=0.0)
    assert w.value is None and "not finite" in w.error


@pytest.mark.parametrize("bad,match", [
    ({"x": [1]}, "list"),
    ([{"x": [1]}], "'x' and 'y'"),
    ([{"x": [1, 2], "y": [1]}], "2 x values and 1 y values"),
    ([{"x": "ab", "y": "cd"}], "numbers"),
    ([{"x": [], "y": []}], "non-empty"),
    ([{"x": [1], "y": [1], "colour": "red"}], "unknown keys"),
    ([{"name": 3, "x": [1], "y": [1]}], "must be a string"),
])
def test_paths_are_validated(bad, match):
    w = Explorer("x^2")
    with pytest.raises(Exception, match=match):
        w.paths = bad


def test_paths_take_arrays_and_keep_gaps_for_non_finite_points():
    w = Explorer("x^2", paths=[{"name": "sgd", "x": np.array([1.0, np.nan, 0.5]), "y": (0, 1, 2)}])
    assert w.paths == [{"name": "sgd", "x": [1.0, None, 0.5], "y": [0.0, 1.0, 2.0]}]


@pytest.mark.parametrize("trait,value", [("x", math.nan), ("eta", 0.0), ("eta", -1.0),
                                         ("xrange", (1, 1)), ("yrange", (0,)),
                                         ("resolution", 1)])
def test_bad_settings_are_refused_from_python_and_from_the_cell(trait, value):
    w = Explorer("x^2 + y^2", x=1.0)
    before = getattr(w, trait)
    with pytest.raises(Exception, match=trait):
        setattr(w, trait, value)
    if trait in ("x", "eta"):
        w.set_state({trait: value})
        assert trait in w.error and getattr(w, trait) == before


def test_the_front_end_cannot_set_the_kernels_answers():
    w = Explorer("x^2", x=1.0)
    w.set_state({"value": 5.0, "surface": {}, "error": "x"})
    assert w.value == 1.0 and w.surface["z"] and w.error == ""


def test_show_is_the_widget():
    w = show("x^2 + y^2", x=1.0, y=2.0)
    assert isinstance(w, Explorer) and w.gradient == [2.0, 4.0]
