"""The explorer in a real browser: headless Chromium driven by Playwright, against a real
uvicorn server on 127.0.0.1. Each test also checks that the page logged no console error and
sent no request anywhere but the local server."""

import re

import pytest

from .browser import require

pytestmark = pytest.mark.browser
sync_api = require()


def number(page, selector):
    return float(page.text_content(selector).rstrip("°"))


def wait_point(page, x=None, y=None):
    """Wait until the readouts show the server's answer for the latest (or the given) point."""
    page.wait_for_function(
        """([x, y]) => {
            const d = document.getElementById('point-panel').dataset;
            if (d.x === undefined) return false;
            const tx = x === null ? d.wantX : String(x), ty = y === null ? d.wantY : String(y);
            return d.wantX === tx && d.wantY === ty && d.x === tx && d.y === ty;
        }""",
        arg=[x, y],
    )
    d = page.eval_on_selector("#point-panel", "el => [Number(el.dataset.x), Number(el.dataset.y)]")
    return d[0], d[1]


def replot(page, action):
    """Do ``action`` (which re-plots) and wait until the page has finished re-plotting."""
    before = int(page.get_attribute("body", "data-plotted") or 0)
    action()
    page.wait_for_function(
        "n => Number(document.body.dataset.plotted || 0) > n", arg=before)


def plot_expression(page, text):
    page.fill("#expr", text)
    replot(page, lambda: page.press("#expr", "Enter"))
    assert page.is_hidden("#expr-error")
    wait_point(page)


def to_pixels(page, x, y):
    return page.evaluate(
        """([x, y]) => {
            const gd = document.getElementById('contour');
            const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
            const r = gd.getBoundingClientRect();
            return [r.left + xa._offset + xa.d2p(x), r.top + ya._offset + ya.d2p(y)];
        }""",
        [x, y],
    )


def test_page_loads_with_tabs_and_readouts(page):
    assert page.title() == "chainrule explorer"
    assert page.text_content("#tab-button-explorer") == "Gradient explorer"
    assert page.get_attribute("#tab-button-explorer", "aria-selected") == "true"
    x, y = wait_point(page)
    # the default preset is the elongated bowl x² + 3y²
    assert page.input_value("#expr") == "x^2 + 3*y^2"
    assert number(page, "#out-gx") == pytest.approx(2 * x, rel=1e-5)
    assert number(page, "#out-f") == pytest.approx(x * x + 3 * y * y, rel=1e-5)
    assert page.evaluate("document.getElementById('surface3d').data.length") >= 7


def test_drag_point_shows_the_gradient_there(page):
    plot_expression(page, "x^2 + 3*y^2")
    start = wait_point(page)
    sx, sy = to_pixels(page, *start)
    tx, ty = to_pixels(page, 1.0, -0.5)
    page.mouse.move(sx, sy)
    page.mouse.down()
    seen = set()
    for k in range(1, 9):  # the readouts follow while dragging
        page.mouse.move(sx + (tx - sx) * k / 8, sy + (ty - sy) * k / 8)
        page.wait_for_timeout(40)
        seen.add(page.text_content("#out-gx"))
    page.mouse.up()
    x, y = wait_point(page)
    assert len(seen) >= 3
    # within a pixel of the target, and the displayed gradient is (2x, 6y) there
    assert x == pytest.approx(1.0, abs=0.02) and y == pytest.approx(-0.5, abs=0.02)
    assert number(page, "#out-gx") == pytest.approx(2 * x, rel=1e-5)
    assert number(page, "#out-gy") == pytest.approx(6 * y, rel=1e-5)
    assert number(page, "#out-norm") == pytest.approx(((2 * x) ** 2 + (6 * y) ** 2) ** 0.5,
                                                      rel=1e-5)
    # the blue arrow on the contour points along the gradient
    ax, ay = arrow_vector(page, "#ov-grad")
    assert ax * (6 * y) - ay * (2 * x) == pytest.approx(0.0, abs=1e-6)
    assert ax * 2 * x + ay * 6 * y > 0


def arrow_vector(page, selector):
    """The data-space vector of an arrow of the contour's overlay (tip minus tail)."""
    return page.eval_on_selector(selector, """el => {
        const a = el.dataset.from.split(',').map(Number), b = el.dataset.to.split(',').map(Number);
        return [b[0] - a[0], b[1] - a[1]]; }""")


def test_typed_coordinates_and_directional_derivative(page):
    plot_expression(page, "x^2 + 3*y^2")
    page.fill("#px", "1")
    page.fill("#py", "2")
    page.press("#py", "Enter")
    page.dispatch_event("#py", "change")
    wait_point(page, 1.0, 2.0)
    assert (number(page, "#out-gx"), number(page, "#out-gy")) == (2.0, 12.0)
    page.eval_on_selector("#dir", "el => { el.value = 90; el.dispatchEvent(new Event('input')); }")
    page.wait_for_function("() => document.getElementById('out-dir').textContent === '12'")
    theta = number(page, "#out-theta")
    assert theta == pytest.approx(9.462, abs=1e-3)  # angle between (0, 1) and (2, 12)
    page.wait_for_function("() => document.getElementById('tay-pred').textContent !== ''")
    # the tangent plane on the surface is z = F + ∂F/∂x (X − x) + ∂F/∂y (Y − y) at (1, 2)
    page.wait_for_selector("#surface3d[data-at='1,2']")
    plane = page.evaluate("(() => { const t = document.getElementById('surface3d').data[1];"
                          " return [t.x, t.y, t.z]; })()")
    assert len(plane[0]) == 4 and len(set(plane[0])) == 2
    for xx, yy, zz in zip(*plane):
        assert zz == pytest.approx(13 + 2 * (xx - 1) + 12 * (yy - 2))


def test_click_on_the_surface_and_gradient_field(page):
    plot_expression(page, "x^2 + 3*y^2")
    # Plotly reports a click on the 3-D surface as a plotly_click event with its x and y.
    page.evaluate("document.getElementById('surface3d').emit('plotly_click',"
                  " {points: [{curveNumber: 0, x: -0.5, y: 0.25}]})")
    wait_point(page, -0.5, 0.25)
    assert (number(page, "#out-gx"), number(page, "#out-gy")) == (-1.0, 1.5)
    assert page.evaluate("document.getElementById('contour').data[1].x.length") == 0
    page.check("#show-field")
    arrows = page.evaluate("(() => { const t = document.getElementById('contour').data[1];"
                           " return [t.x, t.y]; })()")
    assert len(arrows[0]) > 100
    x0, y0, x1, y1 = arrows[0][0], arrows[1][0], arrows[0][1], arrows[1][1]
    # each arrow of the field points along ∇F = (2x, 6y) at its tail
    assert (x1 - x0) * 6 * y0 - (y1 - y0) * 2 * x0 == pytest.approx(0.0, abs=1e-9)
    page.uncheck("#show-field")


def set_lr(page, lr):
    import math

    page.eval_on_selector(
        "#lr", f"el => {{ el.value = {math.log10(lr)}; el.dispatchEvent(new Event('input')); }}"
    )


def test_gradient_descent_paths_are_drawn(page):
    plot_expression(page, "x^2 + 3*y^2")
    page.fill("#px", "1.6")
    page.fill("#py", "1.2")
    page.dispatch_event("#py", "change")
    wait_point(page, 1.6, 1.2)
    for box in page.query_selector_all("#methods input"):
        box.set_checked(box.get_attribute("value") in ("gd", "adam"))
    set_lr(page, 0.1)
    page.fill("#steps", "30")
    page.click("#run")
    page.wait_for_selector("#descent-panel[data-state=done]")
    lengths = page.eval_on_selector_all(
        "#ov-paths polyline", "els => els.map(e => [e.dataset.method, Number(e.dataset.n),"
        " e.getAttribute('points').split(' ').length])")
    assert lengths == [["gd", 31, 31], ["adam", 31, 31]]
    xs = page.evaluate("document.getElementById('surface3d').data[7].x")
    assert xs[0] == pytest.approx(1.6) and xs[1] == pytest.approx(1.6 - 0.1 * 3.2)
    assert page.evaluate("document.getElementById('surface3d').data.length") == 9
    assert page.evaluate("document.getElementById('energy').data.length") == 2
    assert page.is_hidden("#descent-msg")


def test_divergence_is_reported_in_words(page):
    plot_expression(page, "x^2 + 3*y^2")
    for box in page.query_selector_all("#methods input"):
        box.set_checked(box.get_attribute("value") == "gd")
    set_lr(page, 0.5)
    page.click("#run")
    page.wait_for_selector("#descent-panel[data-state=done]")
    msg = page.text_content("#descent-msg")
    assert page.is_visible("#descent-msg")
    assert "diverged at step" in msg and "2/λ_max" in msg and "η = 0.501 is above" in msg
    assert "0.3333" in page.text_content("#curv-text")
    page.click("#clear")
    set_lr(page, 0.1)


def test_bad_expression_shows_the_message(page, watch):
    page.fill("#expr", "x + )")
    replot(page, lambda: page.press("#expr", "Enter"))
    text = page.text_content("#expr-error")
    assert "unexpected ')'" in text and "at column 5" in text
    assert text.splitlines()[-1] == "    ^"  # a caret under column 5
    page.fill("#expr", "__import__('os')")
    replot(page, lambda: page.press("#expr", "Enter"))
    assert "character '_'" in page.text_content("#expr-error")
    plot_expression(page, "sin(x)*cos(y)")
    # Chromium logs each 4xx reply on the console; these two are the ones expected here.
    assert watch.take_http_errors(400) == 2


def test_network_landscape_updates_the_fit(page):
    replot(page, lambda: page.check('input[name="mode"][value="network"]'))
    page.wait_for_selector("#fit-panel:not([hidden])")
    page.wait_for_function("() => document.getElementById('fit').data && "
                           "document.getElementById('fit').data.length === 3")
    a, b = wait_point(page)
    trained_y = page.evaluate("document.getElementById('fit').data[2].y")
    e_trained = number(page, "#out-f")
    sx, sy = to_pixels(page, a, b)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move(sx + 60, sy - 40, steps=4)
    page.mouse.up()
    a2, b2 = wait_point(page)
    assert (a2, b2) != (a, b)
    page.wait_for_function(
        "y0 => JSON.stringify(document.getElementById('fit').data[2].y) !== JSON.stringify(y0)",
        arg=trained_y)
    assert number(page, "#out-f") > e_trained  # away from the trained weights E grows
    assert re.search("hidden 1", page.evaluate(
        "document.getElementById('contour')._fullLayout.xaxis.title.text"))
    replot(page, lambda: page.check('input[name="mode"][value="function"]'))
    assert page.is_hidden("#fit-panel")
