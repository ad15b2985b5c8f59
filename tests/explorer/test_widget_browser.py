"""The Explorer widget's front end in Chromium, against a minimal anywidget model host.

The host page implements the model interface anywidget gives a widget (get, set, on, off,
save_changes, send), loads ``static/widget.js`` from a blob URL as anywidget does, and calls
its ``render({model, el})``. Its "kernel" is a real :class:`Explorer` in this process:
save_changes and send go to it through Playwright bindings, and its answer (the widget's
state) comes back as model changes. Real pointer drags and keys move the point.
"""

import json

import pytest

from .browser import Watch, launch, point_px, red_at, require

sync_api = require()
pytest.importorskip("anywidget", reason="the Explorer needs the widget extra")

from chainrule.explorer.widget import STATIC, Explorer  # noqa: E402

pytestmark = pytest.mark.browser
ORIGIN = "http://127.0.0.1:9"
HOST = """<!doctype html><meta charset="utf-8"><style>%(css)s</style>
<body style="margin:0"><div id="cell" style="width:%(width)s"></div><script type="module">
const listeners = {};
const emit = (k) => (listeners["change:" + k] || []).forEach((f) => f());
const model = {
  state: %(state)s, dirty: {},
  get(k) { return this.state[k]; },
  set(k, v) { this.state[k] = v; this.dirty[k] = v; emit(k); },
  on(ev, f) { (listeners[ev] = listeners[ev] || []).push(f); },
  off(ev, f) { listeners[ev] = (listeners[ev] || []).filter((g) => g !== f); },
  async save_changes() {
    const d = this.dirty; this.dirty = {}; apply(await window.py_set_state(d));
  },
  async send(msg) { apply(await window.py_message(msg)); },
};
function apply(state) {
  for (const [k, v] of Object.entries(state)) {
    if (JSON.stringify(model.state[k]) !== JSON.stringify(v)) { model.state[k] = v; emit(k); }
  }
  window.updates = (window.updates || 0) + 1;
}
window.pushFromPython = apply;
const url = URL.createObjectURL(new Blob([%(esm)s], { type: "text/javascript" }));
const mod = await import(url);
mod.default.render({ model, el: document.getElementById("cell") });
window.ready = true;
</script>"""


def state(w):
    keep = ("function", "label", "x", "y", "eta", "xrange", "yrange", "resolution", "paths",
            "value", "gradient", "surface", "error")
    return json.loads(json.dumps({k: getattr(w, k) for k in keep}))


@pytest.fixture(scope="module")
def browser():
    with launch(sync_api) as b:
        yield b


def open_widget(browser, w, width="600px"):
    page = browser.new_page(viewport={"width": 900 if width == "600px" else 400, "height": 900})
    watch = Watch(page)
    page.expose_function("py_set_state", lambda d: (w.set_state(d), state(w))[1])
    page.expose_function("py_message", lambda m: (w._on_message(w, m, []), state(w))[1])
    html = HOST % {"css": (STATIC / "widget.css").read_text(), "width": width,
                   "state": json.dumps(state(w)),
                   "esm": json.dumps((STATIC / "widget.js").read_text())}
    page.route(ORIGIN + "/host.html", lambda r: r.fulfill(body=html, content_type="text/html"))
    page.goto(ORIGIN + "/host.html")
    page.wait_for_function("window.ready === true")
    return page, watch


@pytest.mark.parametrize("width", ["600px", "380px"])
def test_drag_and_keys_move_the_kernels_point(browser, width, tmp_path):
    w = Explorer("x^2 + 3*y^2", x=1.0, y=1.0, paths=[{"name": "gd", "x": [1, 0.5, 0.2],
                                                        "y": [1, -0.5, 0.3]}])
    page, watch = open_widget(browser, w, width)
    assert red_at(page, *point_px(page, w))
    start = point_px(page, w)
    page.mouse.move(*start)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(start[0] - 12 * k, start[1] + 8 * k)
    page.mouse.up()
    page.wait_for_function("window.updates > 0")
    page.wait_for_timeout(200)
    assert w.x < 0.9 and w.y < 0.9  # dragged left and down in data space
    assert w.value == pytest.approx(w.x ** 2 + 3 * w.y ** 2, abs=1e-12)
    assert red_at(page, *point_px(page, w))
    text = page.locator(".cr-readout").text_content()
    assert f"{w.value:.6g}"[:5] in text
    page.screenshot(path=str(tmp_path / f"widget-{width}.png"))
    # keyboard: arrows move by 2% of the range, Enter takes one step
    x_before = w.x
    page.locator(".cr-over").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    assert w.x == pytest.approx(x_before + 0.02 * 6, abs=1e-9)
    x, y, (gx, gy) = w.x, w.y, w.gradient
    page.keyboard.press("Enter")
    page.wait_for_timeout(200)
    assert (w.x, w.y) == pytest.approx((x - 0.1 * gx, y - 0.1 * gy), abs=1e-12)
    # nothing overflows at 400 px
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    watch.check()
    page.close()


def test_python_moves_the_point_and_errors_show(browser):
    w = Explorer(fn=lambda x, y: x * x * y, x=0.0, y=0.0)
    page, watch = open_widget(browser, w)
    w.x, w.y = -2.0, 1.5
    page.evaluate("s => window.pushFromPython(s)", state(w))
    assert red_at(page, *point_px(page, w))
    assert "-6" in page.locator(".cr-readout").text_content()  # ∂F/∂x = 2xy = -6
    page.click(".cr-step")
    page.wait_for_timeout(200)
    assert w.x == pytest.approx(-2.0 + 0.1 * 6.0)
    w2 = Explorer("x^2")
    page2, watch2 = open_widget(browser, w2)
    page2.fill(".cr-function", "x^^2")
    page2.press(".cr-function", "Enter")
    page2.wait_for_selector(".cr-error:not([hidden])")
    assert "column" in page2.locator(".cr-error").text_content()
    page2.fill(".cr-function", "x*y")
    page2.press(".cr-function", "Enter")
    page2.wait_for_selector(".cr-error[hidden]", state="attached")
    assert w2.function == "x*y" and w2.error == ""
    for p, wt in ((page, watch), (page2, watch2)):
        wt.check()
        p.close()
