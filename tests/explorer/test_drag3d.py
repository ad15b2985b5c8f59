"""The 3-D view during a continuous drag, in headless Chromium (software WebGL) against a real
server: while the point is dragged on the contour its 3-D marks are drawn on a 2-D canvas
over the WebGL scene (``#surface-overlay``) and hidden in the scene; when the drag ends they
are back in the scene and the canvas is clear. Where the overlay draws the black point is
compared with where WebGL draws it once the drag has ended, found on screenshots (the view
with and without the point's trace), at the default camera and after the camera was turned
with the mouse, at 1400 and 400 px wide. Each test also checks that the page logged no
console error and sent no request anywhere but 127.0.0.1."""

import io
import os

import pytest

from .browser import TIMEOUT, Watch, require
from .test_browser import plot_expression, to_pixels, wait_point

pytestmark = pytest.mark.browser
sync_api = require()
np = pytest.importorskip("numpy")
mpimg = pytest.importorskip("matplotlib.image", reason="screenshots are read with matplotlib")

POINT = 5                           # the black point's trace in the 3-D view
MOVING = [1, 2, 3, 4, 5, 6]         # the traces that follow the point
# A redraw of the whole scene (Plotly.restyle) draws the surface's contour lines a pixel
# apart, so screenshots are compared by what changed in SOLID × SOLID squares: a mark as
# wide as the point fills some, lines 1-2 px wide (even bunched) fill none.
SOLID = 5
SHOTS = os.environ.get("CHAINRULE_DRAG3D_SHOTS")  # a folder: keep the screenshots there


@pytest.fixture(scope="module", params=[1400, 400], ids=["1400px", "400px"])
def view(request, server, browser):
    width = request.param
    # tall enough that the contour and the 3-D view are both on screen at 400 px (stacked)
    page = browser.new_page(viewport={"width": width, "height": 1300 if width > 600 else 2200})
    page.set_default_timeout(TIMEOUT)
    watch = Watch(page)
    page.goto(server.url)
    page.wait_for_selector("body[data-ready=true]")
    yield page, watch, width
    page.close()


@pytest.fixture
def page(view):
    page, watch, _ = view
    yield page
    watch.check()


def shot(page, name=None):
    """The 3-D view as on screen: RGB floats in [0, 1], rows top to bottom."""
    png = page.locator("#surface3d").screenshot()
    if SHOTS and name:
        os.makedirs(SHOTS, exist_ok=True)
        with open(os.path.join(SHOTS, f"{name}.png"), "wb") as f:
            f.write(png)
    return mpimg.imread(io.BytesIO(png), format="png")[..., :3]


def next_frames(page):
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def restyle(page, visible, traces):
    page.evaluate("([v, i]) => Plotly.restyle('surface3d', {visible: v}, i)", [visible, traces])
    next_frames(page)


def changed(a, b, tol=0.12):
    """Where two screenshots differ by more than ``tol`` (sum of RGB): a boolean image."""
    return np.abs(a - b).sum(axis=2) > tol


def solid(mask, k=SOLID):
    """The centres (column, row) of the k × k squares of ``mask`` that are wholly set."""
    c = np.pad(mask.astype(int).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    box = c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]
    return np.argwhere(box == k * k)[:, ::-1] + k / 2


def overlay(page):
    """What the overlay canvas holds: its pixels' alpha, the black disc it drew (centre in
    pixels of the 3-D view's screenshot, radius) and the place it says it drew the point.
    The disc's pixels are the dark ones (a half-transparent black over the light tangent
    plane is still darker than the other marks: grey #555, blue, red)."""
    return page.evaluate("""() => {
        const cv = document.getElementById('surface-overlay');
        const o = cv.getBoundingClientRect(), g = document.getElementById('surface3d')
            .getBoundingClientRect();
        const img = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        let n = 0, sx = 0, sy = 0, alpha = 0, painted = 0;
        for (let i = 0; i < img.length; i += 4) {
            if (img[i + 3] > 0) painted += 1;
            if (img[i + 3] > 20 && Math.max(img[i], img[i + 1], img[i + 2]) < 80) {
                const k = i / 4, w = img[i + 3];
                n += 1; alpha += w;
                sx += w * (k % cv.width + 0.5); sy += w * (Math.floor(k / cv.width) + 0.5);
            }
        }
        const dx = o.left - Math.round(g.left), dy = o.top - Math.round(g.top);
        const said = cv.dataset.point ? cv.dataset.point.split(',').map(Number) : null;
        return {painted, black: n, centre: n ? [sx / alpha + dx, sy / alpha + dy] : null,
                radius: Math.sqrt(n / Math.PI), said: said && [said[0] + dx, said[1] + dy],
                shown: getComputedStyle(cv).display !== 'none'}; }""")


def state(page):
    return page.evaluate("""() => { const gd = document.getElementById('surface3d');
        const d = document.getElementById('point-panel').dataset;
        return {drawn: gd.dataset.drawn, at: gd.dataset.at, x: Number(d.x), y: Number(d.y),
                want: [Number(d.wantX), Number(d.wantY)]}; }""")


def wait_drawn(page, how):
    """Wait until the 3-D view shows the answer for the latest point, on the overlay
    (``how == 'overlay'``) or in the WebGL scene (``'scene'``)."""
    page.wait_for_function("""how => {
        const gd = document.getElementById('surface3d');
        const d = document.getElementById('point-panel').dataset;
        return d.x === d.wantX && d.y === d.wantY && gd.dataset.drawn === how &&
            gd.dataset.at === `${d.x},${d.y}`; }""", arg=how)
    next_frames(page)


def hold_drag(page, start, target, steps=12):
    """Press on the contour at ``start`` (data), move to ``target`` and keep the button down."""
    sx, sy = to_pixels(page, *start)
    tx, ty = to_pixels(page, *target)
    page.mouse.move(sx, sy)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(sx + (tx - sx) * k / steps, sy + (ty - sy) * k / steps)
        page.wait_for_timeout(15)


def webgl_point(page, full, name):
    """Where WebGL draws the black point: the pixels that change when its trace is hidden."""
    restyle(page, False, [POINT])
    without = shot(page, f"{name}-no-point")
    restyle(page, True, [POINT])
    mask = changed(full, without)
    squares = solid(mask)
    assert len(squares) > 5, "the WebGL scene draws the point"
    cx, cy = squares.mean(axis=0)
    rows, cols = np.nonzero(mask)
    near = np.hypot(cols + 0.5 - cx, rows + 0.5 - cy) < 12
    return [cols[near].mean() + 0.5, rows[near].mean() + 0.5], float(np.sqrt(near.sum() / np.pi))


def turn_camera(page):
    """Turn the 3-D view with a real mouse drag (Plotly's turntable rotation)."""
    before = page.evaluate("document.getElementById('surface3d')._fullLayout.scene.camera.eye")
    box = page.locator("#surface3d").bounding_box()
    cx, cy = box["x"] + 0.5 * box["width"], box["y"] + 0.75 * box["height"]
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 90, cy - 25, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "e => JSON.stringify(document.getElementById('surface3d')._fullLayout.scene.camera.eye)"
        " !== JSON.stringify(e)", arg=before)
    # the scene's camera eases to where the mouse left it: wait until it stands still
    camera = "document.getElementById('surface3d')._fullLayout.scene._scene.getCamera()"
    last = None
    for _ in range(50):
        now = page.evaluate(camera)
        if now == last:
            return now
        last = now
        page.wait_for_timeout(150)
    raise AssertionError("the camera kept moving")


def pin_camera(page, camera):
    """Give Plotly's layout the camera the scene shows, so the test's own restyles (which
    redraw from the layout) keep the view."""
    page.evaluate("c => Plotly.relayout('surface3d', {'scene.camera': c})", camera)
    next_frames(page)


def check_drag(page, server, start, target, name):
    hold_drag(page, start, target)
    wait_drawn(page, "overlay")
    during = state(page)
    ov = overlay(page)
    shot(page, f"{name}-during")
    assert ov["shown"] and ov["black"] > 30, ov
    # the overlay says where it drew the point, and its black disc is there
    assert np.hypot(*np.subtract(ov["centre"], ov["said"])) < 1.0, ov
    page.evaluate("document.getElementById('surface-overlay').style.visibility = 'hidden'")
    scene_during = shot(page, f"{name}-during-webgl")
    page.evaluate("document.getElementById('surface-overlay').style.visibility = ''")

    page.mouse.up()
    wait_drawn(page, "scene")
    after = state(page)
    assert after["want"] == during["want"]
    assert (after["x"], after["y"]) == (during["x"], during["y"])
    x, y = after["x"], after["y"]
    assert np.hypot(x - target[0], y - target[1]) < 0.03  # the pointer's place, within a pixel
    # the overlay is cleared and the scene holds the point's marks at the final point
    assert overlay(page)["painted"] == 0
    pt = page.evaluate(f"document.getElementById('surface3d').data[{POINT}]")
    assert pt["x"] == [x] and pt["y"] == [y]
    full = shot(page, f"{name}-after")
    webgl, webgl_radius = webgl_point(page, full, name)
    gap = np.hypot(*np.subtract(ov["centre"], webgl))
    assert gap <= 2.0, (ov["centre"], webgl)
    assert abs(ov["radius"] - webgl_radius) < 2.0, (ov["radius"], webgl_radius)

    # during the drag the scene drew none of the point's marks (nothing drawn twice)
    visible = page.evaluate("i => i.map(k => document.getElementById('surface3d')"
                            ".data[k].visible !== false)", MOVING)
    restyle(page, False, MOVING)
    bare = shot(page, f"{name}-bare")
    restyle(page, visible, MOVING)
    shown, shown_during = (len(solid(changed(s, bare))) for s in (full, scene_during))
    assert shown > 40, "the scene shows the marks now"
    assert shown_during == 0, f"the scene showed marks during the drag ({shown_during} squares)"

    # the readouts are the server's values for the final point
    reply = page.request.post(server.url.rstrip("/") + "/api/point", data={
        "function": {"expression": page.input_value("#expr")}, "x": x, "y": y, "direction": 0})
    assert reply.ok
    info = reply.json()
    for out, key in (("out-f", "f"), ("out-gx", "gx"), ("out-gy", "gy"), ("out-norm", "norm")):
        assert float(page.get_attribute(f"#{out}", "data-value")) == info[key], out
    return x, y


def test_overlay_follows_the_drag_where_webgl_draws_the_point(page, server, view):
    width = view[2]
    plot_expression(page, "x^2 + 3*y^2")
    start = wait_point(page)
    wait_drawn(page, "scene")
    p = check_drag(page, server, start, (1.3, -0.25), f"{width}-default")
    pin_camera(page, turn_camera(page))
    check_drag(page, server, p, (-0.8, 0.9), f"{width}-turned")


def test_the_overlay_counts_its_frames_and_leaves_the_surface_alone(page):
    plot_expression(page, "x^2 + 3*y^2")
    start = wait_point(page)
    wait_drawn(page, "scene")
    before = page.evaluate("Object.assign({}, chainrule.stats)")
    hold_drag(page, start, (0.9, 0.6), steps=20)
    wait_drawn(page, "overlay")
    mid = page.evaluate("Object.assign({}, chainrule.stats)")
    page.mouse.up()
    wait_drawn(page, "scene")
    end = page.evaluate("Object.assign({}, chainrule.stats)")
    # many overlay updates; in the scene, one frame to hide the marks (and at most one for
    # the press, before the drag began), one to put them back
    assert mid["surface3d"] - before["surface3d"] >= 3
    assert mid["scene3d"] - before["scene3d"] <= 2
    assert end["scene3d"] - mid["scene3d"] == 1


def test_a_turned_camera_stays_when_the_scene_is_restyled(page):
    """Plotly forgets a camera turned after a re-plot at the next restyle unless the page
    keeps it: toggling the tangent plane must not turn the view back."""
    plot_expression(page, "x^2 + 3*y^2")
    wait_point(page)
    wait_drawn(page, "scene")
    eye = turn_camera(page)["eye"]
    page.uncheck("#show-plane")
    page.wait_for_function("() => document.getElementById('surface3d').data[1].visible === false")
    page.check("#show-plane")
    page.wait_for_function("() => document.getElementById('surface3d').data[1].visible === true")
    next_frames(page)
    now = page.evaluate("document.getElementById('surface3d')._fullLayout.scene._scene"
                        ".getCamera().eye")
    assert now == pytest.approx(eye, abs=1e-9)


def test_a_held_arrow_key_moves_the_marks_on_the_overlay(page):
    """Held down, an arrow key repeats (keydown with repeat set): the 3-D marks follow on the
    overlay; when it is let go they are back in the scene at the final point."""
    plot_expression(page, "x^2 + 3*y^2")
    x0, y0 = wait_point(page)
    wait_drawn(page, "scene")
    page.focus("#contour")
    for _ in range(6):  # the first press, then five repeats
        page.keyboard.down("ArrowRight")
    wait_drawn(page, "overlay")
    assert overlay(page)["black"] > 30
    page.keyboard.up("ArrowRight")
    wait_drawn(page, "scene")
    assert overlay(page)["painted"] == 0
    x, y = wait_point(page)
    assert x == pytest.approx(x0 + 6 * 0.04) and y == y0  # 1% of the 4-wide view per key
    pt = page.evaluate(f"document.getElementById('surface3d').data[{POINT}]")
    assert pt["x"] == [x] and pt["y"] == [y]
