"""The explorer as a class meets it, in headless Chromium (Playwright) against a real uvicorn
server: framed by a notebook, after diverging runs, the words for each failure, the
figure's legibility, a stopped server, no upload buttons, touch, keyboard and a 400 px
screen, and the smaller rough edges (issue 11). Every test also checks that the page logged
no console error and sent no request anywhere but 127.0.0.1."""

import http.server
import threading

import pytest

from .browser import TIMEOUT, Watch, require
from .test_browser import arrow_vector, number, plot_expression, replot, to_pixels, wait_point

pytestmark = pytest.mark.browser
sync_api = require()


def only(page, methods):
    for box in page.query_selector_all("#methods input"):
        box.set_checked(box.get_attribute("value") in methods)


def run(page, lr, steps):
    page.fill("#eta", str(lr))
    page.dispatch_event("#eta", "change")
    page.fill("#steps", str(steps))
    page.click("#run")
    page.wait_for_selector("#descent-panel[data-state=done]")


def at(page, x, y):
    page.fill("#px", str(x))
    page.fill("#py", str(y))
    page.dispatch_event("#py", "change")
    wait_point(page, float(x), float(y))


def wait_3d(page):
    """Wait until the 3-D view shows the point the readouts show."""
    page.wait_for_function("""() => {
        const d = document.getElementById('point-panel').dataset;
        return document.getElementById('surface3d').dataset.at === `${d.x},${d.y}`; }""")


SCENE = """() => {
    const gd = document.getElementById('surface3d'), sc = gd._fullLayout.scene;
    return {ranges: [sc.xaxis.range, sc.yaxis.range, sc.zaxis.range],
            traces: gd.data.map(t => ({type: t.type, x: t.x, y: t.y, z: t.z}))}; }"""


# ----------------------------------------------------------------------------- 1. notebook
def test_the_page_can_be_framed_by_a_notebook_on_this_machine(server, browser):
    """A notebook (another port of 127.0.0.1, as Jupyter is) frames the page: show_app()."""
    html = f'<!doctype html><iframe src="{server.url}" width="1200" height="900"></iframe>'

    class Host(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html.encode())

        def log_message(self, *args):
            pass

    host = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Host)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    page = browser.new_page()
    watch = Watch(page)
    try:
        page.goto(f"http://127.0.0.1:{host.server_address[1]}/")
        frame = page.frame_locator("iframe")
        frame.locator("body[data-ready=true]").wait_for(timeout=TIMEOUT)
        assert frame.locator("#out-f").text_content() == "6.88"
        watch.check()
    finally:
        page.close()
        host.shutdown()
        host.server_close()


def test_show_app_returns_a_frame_of_the_local_server():
    pytest.importorskip("IPython")
    from chainrule.explorer import notebook

    try:
        frame = notebook.show_app()
        assert frame.src.startswith("http://127.0.0.1:")
    finally:
        notebook.stop()


# ----------------------------------------------------------------------------- 2. the 3-D box
def assert_inside(scene, first_path=7):
    (x0, x1), (y0, y1), (z0, z1) = scene["ranges"]
    for t in scene["traces"][first_path:]:
        pts = [p for p in zip(t["x"], t["y"], t["z"]) if None not in p]
        assert pts, "a path is drawn"
        for x, y, z in pts:
            assert x0 - 1e-9 <= x <= x1 + 1e-9 and y0 - 1e-9 <= y <= y1 + 1e-9
            assert z0 - 1e-9 <= z <= z1 + 1e-9


@pytest.mark.parametrize("preset, lr, steps", [("elongated", 10, 100), ("saddle", 0.1, 1000)])
def test_3d_view_keeps_its_box_after_a_diverging_run(page, preset, lr, steps):
    replot(page, lambda: page.select_option("#preset", preset))
    wait_point(page)
    only(page, ["gd"])
    run(page, lr, steps)
    scene = page.evaluate(SCENE)
    surf = scene["traces"][0]
    zs = [z for row in surf["z"] for z in row if z is not None]
    zlo, zhi = scene["ranges"][2]
    # the surface fills most of the z range: not a flat sheet under a stretched axis
    assert (max(zs) - min(zs)) / (zhi - zlo) > 0.85
    assert_inside(scene)
    page.click("#clear")


# ----------------------------------------------------------------------------- 3. the words
def test_the_saddle_is_explained_as_unbounded_below(page):
    replot(page, lambda: page.select_option("#preset", "saddle"))
    wait_point(page)
    only(page, ["gd"])
    run(page, 0.1, 1000)
    msg = page.text_content("#descent-msg")
    assert page.is_visible("#descent-msg")
    assert "unbounded below" in msg and "negative eigenvalue λ = -2" in msg
    assert "larger curvature" not in msg
    page.click("#clear")


def test_slow_divergence_is_explained_with_the_bound(page):
    replot(page, lambda: page.select_option("#preset", "elongated"))
    wait_point(page)
    only(page, ["gd"])
    run(page, 0.339, 100)
    msg = page.text_content("#descent-msg")
    assert page.is_visible("#descent-msg")
    assert "E grew from 6.88 to 3464 over 100 steps" in msg and "2/λ_max = 0.3333" in msg
    page.click("#clear")


# ----------------------------------------------------------------------------- 4. dragging
def test_dragging_updates_the_3d_points_without_resending_the_surface(page):
    plot_expression(page, "x^2 + 3*y^2")
    start = wait_point(page)
    wait_3d(page)
    page.evaluate("""() => {
        const gd = document.getElementById('surface3d'), sc = gd._fullLayout.scene._scene;
        const obj = sc.traces[gd._fullData[0].uid];
        window.__surfaceUpdates = 0;
        const orig = obj.update.bind(obj);
        obj.update = (d) => { window.__surfaceUpdates += 1; return orig(d); };
        window.__drawn3d = chainrule.stats.surface3d; }""")
    sx, sy = to_pixels(page, *start)
    page.mouse.move(sx, sy)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(sx - 12 * k, sy + 8 * k)
    page.mouse.up()
    wait_point(page)
    wait_3d(page)
    assert page.evaluate("window.__surfaceUpdates") == 0
    assert page.evaluate("chainrule.stats.surface3d - window.__drawn3d") >= 1
    x, y = wait_point(page)
    pt = page.evaluate("document.getElementById('surface3d').data[5]")  # the black point
    assert pt["x"] == [x] and pt["y"] == [y]


# ----------------------------------------------------------------------------- 5. legibility
def test_the_3d_figure_is_legible(page):
    replot(page, lambda: page.select_option("#preset", "elongated"))
    x, y = wait_point(page)
    wait_3d(page)
    scene = page.evaluate(SCENE)
    (x0, x1), (y0, y1), (z0, z1) = scene["ranges"]
    surf = scene["traces"][0]
    zs = [z for row in surf["z"] for z in row]
    # the floor sits just below the surface, not far under it (no values F never takes)
    assert z0 >= min(zs) - 0.1 * (max(zs) - min(zs)) and z1 <= max(zs) * 1.05
    point, floor_dot = scene["traces"][5], scene["traces"][3]
    styles = page.evaluate("[5, 3].map(i => document.getElementById('surface3d').data[i].marker)")
    assert styles[0]["color"] == "#000" and styles[0]["line"]["color"] == "#fff"
    assert styles[1]["size"] < styles[0]["size"]  # the red floor marker does not hide the arrow
    assert point["z"][0] >= 6.88  # on (just above) the surface
    for idx in (4, 6):  # the floor arrow and the rising arrow: a shaft and a two-barbed head
        t = scene["traces"][idx]
        assert len(t["x"]) == 6 and t["x"][2] is None and t["x"][1] == t["x"][4]
        unit = [(t[a][1] - t[a][0]) / (r[1] - r[0]) for a, r in zip("xyz", scene["ranges"])]
        assert sum(u * u for u in unit) ** 0.5 > 0.15  # long enough to see: >15% of the box
    assert floor_dot["z"][0] == pytest.approx(z0)
    # on the contour the arrows have heads
    for sel in ("#ov-grad", "#ov-dir", "#ov-step"):
        assert page.get_attribute(sel, "marker-end").startswith("url(#head-")


def test_arrow_length_unit_or_proportional(page):
    plot_expression(page, "x^2 + 3*y^2")

    def contour_len(x, y):
        at(page, x, y)
        dx, dy = arrow_vector(page, "#ov-grad")
        return (dx * dx + dy * dy) ** 0.5

    unit = contour_len(0.2, 0.1), contour_len(1.0, 0.8)
    assert unit[0] == pytest.approx(unit[1], rel=1e-6)
    page.select_option("#arrow-len", "proportional")
    prop = contour_len(0.2, 0.1), contour_len(1.0, 0.8)
    ratio = ((2 * 1.0) ** 2 + (6 * 0.8) ** 2) ** 0.5 / ((2 * 0.2) ** 2 + (6 * 0.1) ** 2) ** 0.5
    assert prop[1] / prop[0] == pytest.approx(ratio, rel=1e-6)
    page.select_option("#arrow-len", "unit")


def test_arrow_near_the_edge_stays_in_view(page):
    plot_expression(page, "x^2 + 3*y^2")
    at(page, 1.95, 1.9)
    (dx, dy) = arrow_vector(page, "#ov-grad")
    frm = [float(v) for v in page.get_attribute("#ov-grad", "data-from").split(",")]
    assert 0 < frm[0] + dx <= 2 + 1e-9 and 0 < frm[1] + dy <= 2 + 1e-9
    assert page.is_visible("#ov-grad")


# ----------------------------------------------------------------------------- 7. no upload
def test_no_plot_offers_to_upload(page):
    only(page, ["gd"])
    run(page, 0.1, 10)
    titles = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(gd =>
        [gd.id, [...gd.querySelectorAll('.modebar-btn')].map(b => b.getAttribute('data-title')),
         gd.querySelectorAll('.modebar-btn--logo').length])""")
    assert len(titles) >= 4
    for gid, buttons, logos in titles:
        assert logos == 0, gid
        assert not [b for b in buttons if "share" in b.lower() or "cloud" in b.lower()
                    or "studio" in b.lower()], (gid, buttons)
    page.click("#clear")


# ----------------------------------------------------------------------------- 8. keyboard
def test_keyboard_moves_the_point_and_takes_a_step(page):
    plot_expression(page, "x^2 + 3*y^2")
    at(page, 1, 1)
    page.focus("#contour")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    x, y = wait_point(page)
    assert x == pytest.approx(1.12) and y == pytest.approx(0.96)  # 1% of the 4-wide view per key
    page.keyboard.press("Enter")  # one step w ← w − η∇F
    x2, y2 = wait_point(page)
    assert x2 == pytest.approx(x - 0.1 * 2 * x) and y2 == pytest.approx(y - 0.1 * 6 * y)
    assert number(page, "#out-gx") == pytest.approx(2 * x2, rel=1e-5)
    # the readouts are announced once the point settles
    assert page.get_attribute("#point-live", "aria-live") == "polite"
    want = f"At x = {x2:.4g}, y = {y2:.4g}: F = {x2 * x2 + 3 * y2 * y2:.4g}"
    page.wait_for_function("w => document.getElementById('point-live').textContent"
                           ".startsWith(w)", arg=want)


def test_one_step_button_moves_by_minus_eta_gradient(page):
    plot_expression(page, "x^2 + 3*y^2")
    at(page, 1.5, -1)
    page.click("#one-step")
    x, y = wait_point(page)
    assert (x, y) == (pytest.approx(1.5 - 0.1 * 3), pytest.approx(-1 + 0.1 * 6))
    assert number(page, "#out-gy") == pytest.approx(6 * y, rel=1e-5)
    ax, ay = arrow_vector(page, "#ov-grad")  # the arrow is redrawn there
    assert ax * 6 * y - ay * 2 * x == pytest.approx(0, abs=1e-9)


def test_tabs_follow_arrow_keys_aria_and_the_hash(page):
    tab = page.locator("#tab-button-explorer")
    assert tab.get_attribute("role") == "tab"
    assert page.get_attribute("#tabbar", "role") == "tablist"
    panel_id = tab.get_attribute("aria-controls")
    assert page.get_attribute(f"#{panel_id}", "role") == "tabpanel"
    tab.focus()
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tab-button-walkthrough", "aria-selected") == "true"
    assert page.get_attribute("#tab-button-explorer", "aria-selected") == "false"
    assert page.evaluate("document.activeElement.id") == "tab-button-walkthrough"
    assert page.evaluate("location.hash") == "#walkthrough"
    page.wait_for_selector("#wt-net-svg .wt-node")
    page.evaluate("location.hash = '#explorer'")
    page.wait_for_function("() => chainrule.activeTab === 'explorer'")
    assert page.is_visible("#contour") and page.is_hidden("#wt-network")


# ----------------------------------------------------------------------------- 9. smaller
def test_legends_and_the_scale_note(page):
    legend = page.text_content("#contour-legend")
    assert "u, the direction" in legend and "−η∇F" in legend and "∇F" in legend
    assert "tangent plane" in page.text_content("#surface-legend")
    assert page.is_hidden("#scale-note")
    replot(page, lambda: page.check('input[name="mode"][value="network"]'))
    assert page.is_visible("#scale-note") and "not drawn to the" in page.text_content("#scale-note")
    replot(page, lambda: page.check('input[name="mode"][value="function"]'))


def test_constant_function(page):
    plot_expression(page, "2")
    assert page.text_content("#out-theta") == "not defined, as ∇F = 0"
    assert "undefined" not in page.text_content("#point-panel")
    assert "constant" in page.text_content("#surface-note")
    (z0, z1) = page.evaluate(SCENE)["ranges"][2]
    assert z0 < 2 < z1


def test_overflowing_function_logs_no_svg_errors(page):
    plot_expression(page, "exp(x*100)")
    page.wait_for_timeout(500)
    plot_expression(page, "exp(x*400)")  # F overflows to inf on part of the grid
    assert "not finite" in page.text_content("#surface-note")
    page.wait_for_timeout(500)


@pytest.mark.parametrize("steps", ["0", "5000", "2.5"])
def test_steps_out_of_range_are_refused_in_words(page, steps):
    plot_expression(page, "x^2 + 3*y^2")
    page.fill("#steps", steps)
    page.click("#run")
    page.wait_for_selector("#descent-panel[data-state=error]")
    assert "Steps must be a whole number from 1 to 1000" in page.text_content("#descent-msg")
    assert page.eval_on_selector_all("#ov-paths polyline", "els => els.length") == 0
    page.fill("#steps", "100")


def test_an_error_clears_the_previous_results(page, watch):
    plot_expression(page, "x^2 + 3*y^2")
    page.fill("#expr", "x + )")
    replot(page, lambda: page.press("#expr", "Enter"))
    assert page.is_visible("#expr-error")
    assert page.text_content("#out-f") == "—"
    assert page.evaluate("(document.getElementById('contour').data || []).length") == 0
    assert page.is_hidden("#contour-overlay")
    assert watch.take_http_errors(400) == 1
    plot_expression(page, "x^2 + 3*y^2")


def test_one_notation_for_the_target(page):
    page.click("#tab-button-walkthrough")
    page.wait_for_selector("#wt-net-svg .wt-node")
    replot(page, lambda: page.click("#tab-button-explorer") or page.check(
        'input[name="mode"][value="network"]'))
    page.wait_for_selector("#fit-panel:not([hidden])")
    text = page.evaluate("document.body.innerText") + page.text_content("#tab-panel-walkthrough")
    assert text.count("Bishop") == 1 and "tₙ" not in text
    assert "ŷ" in page.text_content("#fit-panel") and "ŷ" in page.text_content("#wt-network")
    replot(page, lambda: page.check('input[name="mode"][value="function"]'))


# ----------------------------------------------------------------------------- 8. phones
@pytest.fixture
def phone(server, browser):
    context = browser.new_context(viewport={"width": 400, "height": 860}, has_touch=True,
                                  is_mobile=True, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    watch = Watch(page)
    page.goto(server.url)
    page.wait_for_selector("body[data-ready=true]")
    yield page
    watch.check()
    context.close()


def test_400px_layout_does_not_overflow(phone):
    wait_point(phone)
    width = lambda: phone.evaluate("document.documentElement.scrollWidth")  # noqa: E731
    assert width() <= 400
    phone.click("#tab-button-walkthrough")
    phone.wait_for_selector("#wt-net-svg .wt-node")
    phone.click("#wt-network .wt-all")
    assert width() <= 400
    # nothing sticks out past the screen, except inside a box that scrolls sideways
    wide = phone.evaluate("""() => [...document.querySelectorAll('#tab-panel-walkthrough *')]
        .filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > 401)
        .filter(e => { for (let p = e.parentElement; p; p = p.parentElement)
            if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return false;
            return true; })
        .map(e => e.tagName + '.' + e.className)""")
    assert wide == []
    # the graph's labels are drawn large enough to read (not shrunk to fit 400 px)
    height = phone.evaluate("document.querySelector('#wt-net-svg .wt-label')"
                            ".getBoundingClientRect().height")
    assert height >= 10


def test_touch_drag_follows_the_finger(phone):
    x, y = wait_point(phone)
    sx, sy = to_pixels(phone, x, y)
    tx, ty = to_pixels(phone, -1.0, -0.5)
    cdp = phone.context.new_cdp_session(phone)

    def touch(kind, px, py):
        pts = [] if kind == "touchEnd" else [{"x": px, "y": py, "id": 1}]
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": pts})

    touch("touchStart", sx, sy)
    for k in range(1, 21):
        touch("touchMove", sx + (tx - sx) * k / 20, sy + (ty - sy) * k / 20)
        phone.wait_for_timeout(15)
    touch("touchEnd", tx, ty)
    x2, y2 = wait_point(phone)
    assert x2 == pytest.approx(-1.0, abs=0.05) and y2 == pytest.approx(-0.5, abs=0.05)
    assert phone.evaluate("getComputedStyle(document.getElementById('contour')).touchAction") \
        == "none"


# ----------------------------------------------------------------------------- 6. server stops
def test_a_stopped_server_is_shown_and_the_page_recovers(browser):
    from chainrule.explorer.server import BackgroundServer

    srv = BackgroundServer("127.0.0.1", 0)
    port = int(srv.url.rsplit(":", 1)[1].strip("/"))
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    page.set_default_timeout(TIMEOUT)
    watch = Watch(page)
    try:
        page.goto(srv.url)
        page.wait_for_selector("body[data-ready=true]")
        x, y = wait_point(page)
        srv.stop()
        sx, sy = to_pixels(page, x, y)
        page.mouse.move(sx, sy)
        page.mouse.down()
        page.mouse.move(sx - 60, sy + 40, steps=4)
        page.mouse.up()
        page.wait_for_selector("#offline:not([hidden])")
        assert "chainrule explore" in page.text_content("#offline")
        assert page.get_attribute("#point-panel", "class") == "panel stale"
        assert page.is_hidden("#ov-grad")  # no arrow left at the old point
        page.click("#tab-button-walkthrough")  # never opened: cannot load now
        page.wait_for_timeout(300)
        assert page.is_visible("#offline")
        srv = BackgroundServer("127.0.0.1", port)
        page.wait_for_selector("#offline", state="hidden")
        page.wait_for_selector("#wt-net-svg .wt-node")  # the walkthrough loads by itself
        page.click("#tab-button-explorer")
        want = page.eval_on_selector("#point-panel", "el => [Number(el.dataset.wantX), "
                                     "Number(el.dataset.wantY)]")
        x2, y2 = wait_point(page, *want)
        assert (x2, y2) != (x, y)
        assert number(page, "#out-gx") == pytest.approx(2 * x2, rel=1e-5)
        assert "stale" not in page.get_attribute("#point-panel", "class")
        # the console lines of the refused connections are expected; nothing else
        watch.errors = [e for e in watch.errors if "ERR_CONNECTION_REFUSED" not in e
                        and "request failed" not in e]
        watch.check()
    finally:
        page.close()
        srv.stop()


# ----------------------------------------------------------------------------- new: the link
def open_page(browser, url, ready="body[data-ready=true]"):
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    page.set_default_timeout(TIMEOUT)
    watch = Watch(page)
    page.goto(url)
    page.wait_for_selector(ready)
    return page, watch


def test_a_shared_url_restores_function_point_eta_methods_and_paths(server, browser):
    url = (server.url + "?f=x%5E2%20%2B%203*y%5E2&x=1&y=-0.5&eta=0.2&opt=gd,adam&steps=20"
           "#explorer")
    page, watch = open_page(browser, url)
    try:
        assert page.input_value("#expr") == "x^2 + 3*y^2"
        x, y = wait_point(page, 1.0, -0.5)
        assert number(page, "#out-gy") == pytest.approx(-3.0)
        assert page.input_value("#eta") == "0.2"
        checked = page.eval_on_selector_all("#methods input:checked",
                                            "els => els.map(e => e.value)")
        assert checked == ["gd", "adam"]
        page.wait_for_selector("#descent-panel[data-state=done]")
        paths = page.eval_on_selector_all(
            "#ov-paths polyline", "els => els.map(e => [e.dataset.method, Number(e.dataset.n)])")
        assert paths == [["gd", 21], ["adam", 21]]
        first = page.evaluate("document.getElementById('surface3d').data[7]")
        assert first["x"][1] == pytest.approx(1 - 0.2 * 2) and first["y"][1] == pytest.approx(
            -0.5 + 0.2 * 3)
        watch.check()
    finally:
        page.close()


def test_copy_link_round_trips_the_state(server, browser):
    page, watch = open_page(browser, server.url)
    try:
        replot(page, lambda: page.select_option("#preset", "saddle"))
        at(page, 0.5, 0.25)
        page.fill("#eta", "0.05")
        page.dispatch_event("#eta", "change")
        page.click("#copy-link")
        link = page.input_value("#link-text")
        assert "preset=saddle" in link and "x=0.5" in link and "eta=0.05" in link
        assert link.endswith("#explorer")
        watch.check()
    finally:
        page.close()
    page, watch = open_page(browser, link)
    try:
        assert page.input_value("#preset") == "saddle"
        assert wait_point(page, 0.5, 0.25) == (0.5, 0.25)
        assert page.input_value("#eta") == "0.05"
        watch.check()
    finally:
        page.close()


def test_a_bad_link_says_what_it_could_not_use(server, browser):
    page, watch = open_page(browser, server.url + "?preset=bowl&x=abc&y=1&opt=newton#walkthrough",
                            ready="#wt-net-svg .wt-node")
    try:
        assert page.get_attribute("#tab-button-walkthrough", "aria-selected") == "true"
        page.click("#tab-button-explorer")
        page.wait_for_selector("body[data-ready=true]")
        note = page.text_content("#note")
        assert 'x = "abc" is not a number' in note and "unknown methods: newton" in note
        assert page.input_value("#preset") == "bowl"
        watch.check()
    finally:
        page.close()


# ----------------------------------------------------------------------------- new: the player
def test_descent_player_steps_scrubs_and_plays(page):
    plot_expression(page, "x^2 + 3*y^2")
    at(page, 1.6, 1.2)
    only(page, ["gd", "momentum"])
    run(page, 0.1, 40)
    assert page.is_visible("#player")
    n = lambda: page.eval_on_selector_all(  # noqa: E731
        "#ov-paths polyline", "els => els.map(e => Number(e.dataset.n))")
    assert n() == [41, 41]
    page.eval_on_selector("#scrub", "el => { el.value = 5; el.dispatchEvent(new Event('input')); }")
    assert n() == [5, 5] and page.text_content("#scrub-val") == "4"
    page.click("#step-path")
    assert n() == [6, 6]
    energy = page.evaluate("document.getElementById('energy').data.map(t => t.y.length)")
    assert energy == [6, 6]
    page.click("#play")
    page.wait_for_function("() => document.getElementById('play').textContent.includes('Play')")
    assert n() == [41, 41]
    page.click("#clear")
    assert page.is_hidden("#player")


def test_the_equations_panel(page):
    text = page.text_content("#equations")
    assert "w ← w − η∇E" in text and "‖∇F‖ ‖Δr‖ cos θ" in text and "η < 2/λ_max" in text
