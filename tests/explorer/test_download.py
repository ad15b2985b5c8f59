"""Saving what the explorer shows (static/download.js): "Save PNG" writes the contour and
the surface as one PNG with its caption, "Save path CSV" the descent paths. Clicked with the
real pointer and the keyboard in headless Chromium; the files are caught as downloads and
read back: the PNG shows what the page shows, the CSV holds chainrule's paths to 1e-9."""

import csv
import io

import numpy as np
import pytest

from chainrule.explorer import descent
from chainrule.explorer.parser import compile_expression

from .browser import TIMEOUT, Watch, open_file_offline, require
from .test_browser import plot_expression, replot, set_lr, to_pixels, wait_point

pytestmark = pytest.mark.browser
require()
# Pillow comes with matplotlib (the 'plot' extra, in 'all')
Image = pytest.importorskip("PIL.Image", reason="reading the PNG needs Pillow (matplotlib's)")

BOWL = "x^2 + 3*y^2"
HEADER = ["optimizer", "step", "x", "y", "F", "dF/dx", "dF/dy"]
RED = (214, 39, 40)
METHOD_RGB = {"gd": (255, 127, 14), "adam": (227, 119, 194)}


def run_descent(page, methods, lr=0.1, steps=30, start=(1.6, 1.2)):
    page.fill("#px", str(start[0]))
    page.fill("#py", str(start[1]))
    page.dispatch_event("#py", "change")
    wait_point(page, *start)
    for box in page.query_selector_all("#methods input"):
        box.set_checked(box.get_attribute("value") in methods)
    set_lr(page, lr)
    page.fill("#steps", str(steps))
    page.click("#run")
    page.wait_for_selector("#descent-panel[data-state=done]")


def download(page, action):
    """Do ``action`` and return the file the page saved: (suggested name, bytes)."""
    with page.expect_download() as info:
        action()
    d = info.value
    assert d.failure() is None
    with open(d.path(), "rb") as f:
        return d.suggested_filename, f.read()


def read_csv(data, header=HEADER):
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows[0] == header
    paths = {}
    for r in rows[1:]:
        p = paths.setdefault(r[0], {"step": [], "x": [], "y": [], "E": [], "gx": [], "gy": []})
        for key, v in zip(["step", "x", "y", "E", "gx", "gy"], r[1:]):
            p[key].append(int(v) if key == "step" else float(v))
    return paths


def assert_paths_are_chainrules(paths, f, start, lr, steps, methods):
    assert list(paths) == methods  # every optimizer shown, in the page's order
    for m in methods:
        ref = descent.run(f, start, m, lr, steps)
        got = paths[m]
        assert got["step"] == list(range(len(ref["x"])))
        for key in ("x", "y", "E", "gx", "gy"):
            np.testing.assert_allclose(got[key], ref[key], rtol=1e-9, atol=1e-12,
                                       err_msg=f"{m} {key}")


def rgb(data):
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return np.asarray(img.convert("RGB")).astype(int)


def colours(region):
    return len(np.unique(region.reshape(-1, 3), axis=0))


def near(region, colour, tol=30):
    return int((np.abs(region - np.array(colour)).max(axis=2) <= tol).sum())


def rects(page):
    return page.evaluate("""() => Object.fromEntries(['contour', 'surface3d'].map(id => {
        const r = document.getElementById(id).getBoundingClientRect();
        return [id, [r.left, r.top, r.width, r.height]]; }))""")


def test_save_png_shows_both_plots_and_the_caption(page, tmp_path):
    plot_expression(page, BOWL)
    run_descent(page, ["gd", "adam"])
    page.mouse.move(5, 5)  # no mode bar on screen: the screenshots below are the plots alone
    shots = {i: rgb(page.locator(f"#{i}").screenshot()) for i in ("contour", "surface3d")}
    box = page.locator("#save-png").bounding_box()
    with page.expect_download() as info:
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert info.value.suggested_filename == "chainrule-figure.png"
    img = rgb(open(info.value.path(), "rb").read())
    r = rects(page)
    (cx, cy, cw, ch), (sx, sy, sw, sh) = r["contour"], r["surface3d"]
    # side by side as on the page, the caption under them
    top = min(cy, sy)
    fig_h = round(max(cy + ch, sy + sh) - top)
    assert img.shape[1] == round(sx + sw - cx)
    assert img.shape[0] >= fig_h + 5 * 21
    assert "Saved chainrule-figure.png." in page.text_content("#save-msg")
    # each plot's region is the plot as the page shows it (point, arrows and paths included)
    for key, shot in shots.items():
        x, y = round(r[key][0] - cx), round(r[key][1] - top)
        region = img[y:y + shot.shape[0], x:x + shot.shape[1]]
        assert colours(region) > 200  # not blank: a coloured surface
        assert np.abs(region - shot).mean() < 6, "the PNG's plot differs from the page's"
    # the red point sits where the page draws it
    px, py = to_pixels(page, 1.6, 1.2)
    dot = img[round(py - top) - 3:round(py - top) + 4, round(px - cx) - 3:round(px - cx) + 4]
    assert near(dot, RED) >= 25
    # the caption: text (dark pixels) and one key per descent path in the path's colour
    caption = img[fig_h:]
    assert (caption.max(axis=2) < 120).sum() > 3000
    for m in ("gd", "adam"):
        assert near(caption, METHOD_RGB[m], 20) > 20, m
    assert near(img[:fig_h, :round(cw)], METHOD_RGB["adam"], 20) > 20  # the path on the contour
    saved = page.evaluate("window.chainrule.saved")
    text = " ".join(saved["caption"])
    for words in ("F(x, y) = x^2 + 3*y^2", "Point (x, y) = (1.6, 1.2)", "η = 0.1",
                  "Gradient descent, 30 steps", "Adam, 30 steps", "the tangent plane"):
        assert words in text
    assert saved["height"] == img.shape[0] and saved["figureHeight"] == fig_h
    Image.fromarray(img.astype(np.uint8)).save(tmp_path / "figure.png")


def test_save_csv_by_keyboard_holds_chainrules_paths(page):
    plot_expression(page, BOWL)
    methods = list(descent.METHODS)  # all five optimizers
    run_descent(page, methods, lr=0.05, steps=40, start=(-1.4, 0.9))
    start = page.eval_on_selector("#point-panel",
                                  "el => [Number(el.dataset.x), Number(el.dataset.y)]")
    eta = page.evaluate("window.chainrule.state.eta")  # the slider's η: 0.0501
    assert eta == pytest.approx(0.05, rel=0.01)
    page.focus("#save-png")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "save-csv"
    name, data = download(page, lambda: page.keyboard.press("Enter"))
    assert name == "chainrule-paths.csv"
    paths = read_csv(data)
    assert_paths_are_chainrules(paths, compile_expression(BOWL), tuple(start), eta, 40, methods)
    # a path that diverges ends where chainrule's stops
    run_descent(page, ["gd"], lr=0.5, steps=200, start=(1.0, 1.0))
    page.focus("#save-csv")
    _, data = download(page, lambda: page.keyboard.press("Space"))
    paths = read_csv(data)
    eta = page.evaluate("window.chainrule.state.eta")  # 0.501, above 2/λ_max = 1/3
    ref = descent.run(compile_expression(BOWL), (1.0, 1.0), "gd", eta, 200)
    assert ref["status"] == "diverged" and len(paths["gd"]["x"]) == len(ref["x"]) < 201
    assert_paths_are_chainrules(paths, compile_expression(BOWL), (1.0, 1.0), eta, 200, ["gd"])
    page.click("#clear")
    set_lr(page, 0.1)


def test_network_landscape_png_uses_its_names(page):
    replot(page, lambda: page.check('input[name="mode"][value="network"]'))
    wait_point(page)
    page.click("#run")
    page.wait_for_selector("#descent-panel[data-state=done]")
    _, data = download(page, lambda: page.click("#save-png"))
    img, saved = rgb(data), page.evaluate("window.chainrule.saved")
    assert img.shape[:2] == (saved["height"], saved["width"])
    r = rects(page)
    assert colours(img[:, :round(r["contour"][2])]) > 200
    assert colours(img[:saved["figureHeight"], round(r["surface3d"][0] - r["contour"][0]):]) > 200
    text = " ".join(saved["caption"])
    wx = page.evaluate("window.chainrule.state.surf.network.wx_label")
    assert "E of the 1-3-1 tanh network" in text and wx in text
    assert f"Point ({wx.split(':')[0]}, " in text and "∇E = (" in text and "F =" not in text
    assert "not drawn to the same scale" in text  # the page's note on the unequal axes
    _, data = download(page, lambda: page.click("#save-csv"))
    wy = page.evaluate("window.chainrule.state.surf.network.wy_label").split(":")[0]
    wx = wx.split(":")[0]
    paths = read_csv(data, ["optimizer", "step", wx, wy, "E", f"dE/d{wx}", f"dE/d{wy}"])
    shown = page.evaluate("window.chainrule.state.paths[0]")
    got = paths[shown["method"]]
    assert got["x"] == shown["x"] and got["E"] == shown["E"]  # the page's path, in full
    replot(page, lambda: page.check('input[name="mode"][value="function"]'))


def test_bad_states_say_why_and_save_nothing(page, watch):
    plot_expression(page, BOWL)
    saved = []

    def caught(d):
        saved.append(d)

    page.on("download", caught)
    page.click("#clear")
    page.click("#save-csv")
    assert "No descent path yet" in page.text_content("#save-msg")
    assert "error" in page.get_attribute("#save-msg", "class")
    # the server refuses the run: its message, no file
    page.route("**/api/descent", lambda route: route.fulfill(
        status=500, content_type="application/json", body='{"error": "the server broke"}'))
    page.click("#run")
    page.wait_for_selector("#descent-panel[data-state=error]")
    page.click("#save-csv")
    msg = page.text_content("#save-msg")
    assert "the last run failed" in msg and "the server broke" in msg
    page.unroute("**/api/descent")
    assert watch.take_http_errors(500) == 1
    # the server does not answer: the point on screen may be old, so no PNG
    page.route("**/api/**", lambda route: route.abort())
    page.fill("#px", "0.5")
    page.dispatch_event("#px", "change")
    page.wait_for_selector("#offline:not([hidden])")
    page.click("#save-png")
    assert "server is not answering" in page.text_content("#save-msg")
    page.unroute("**/api/**")
    page.wait_for_selector("#offline", state="hidden")
    wait_point(page)
    page.wait_for_timeout(300)
    page.remove_listener("download", caught)
    assert saved == []
    watch.errors = [e for e in watch.errors if "ERR_FAILED" not in e and "request failed" not in e]
    # and once all is well again, it saves
    _, data = download(page, lambda: page.click("#save-png"))
    assert rgb(data).shape[0] > 400


def test_buttons_at_400px_are_labelled_focusable_and_save(server, browser):
    context = browser.new_context(viewport={"width": 400, "height": 860}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    watch = Watch(page)
    try:
        page.goto(server.url)
        page.wait_for_selector("body[data-ready=true]")
        wait_point(page)
        for name, title in (("Save PNG", "PNG"), ("Save path CSV", "CSV")):
            button = page.get_by_role("button", name=name, exact=True)
            b = button.bounding_box()
            assert b["x"] >= 0 and b["x"] + b["width"] <= 400 and b["height"] >= 24
            assert title in button.get_attribute("title")
        assert page.evaluate("document.documentElement.scrollWidth") <= 400
        page.focus("#surface3d")  # the tab order: the plots, then the two buttons
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "save-png"
        name, data = download(page, lambda: page.keyboard.press("Enter"))
        img = rgb(data)
        r = rects(page)
        (_, _, cw, ch), (_, _, sw, sh) = r["contour"], r["surface3d"]
        # stacked, as on screen, the surface right under the contour (12 px between)
        assert img.shape[1] == round(max(cw, sw))
        fig_h = round(ch + 12 + sh)
        assert img.shape[0] > fig_h + 5 * 21 and page.evaluate("window.chainrule.saved")[
            "figureHeight"] == fig_h
        assert colours(img[:round(ch)]) > 200 and colours(img[round(ch) + 12:fig_h]) > 200
        assert (img[fig_h:].max(axis=2) < 120).sum() > 3000  # the caption's text
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert "No descent path yet" in page.text_content("#save-msg")
        assert page.get_attribute("#save-msg", "role") == "status"  # announced
        watch.check()
    finally:
        context.close()


def test_exported_figure_saves_from_disk_with_the_network_blocked(browser, tmp_path):
    pytest.importorskip("plotly", reason="exporting needs the 'explore' extra")
    from chainrule.explorer.export import export_data, export_html

    out = tmp_path / "figure.html"
    methods = ["gd", "momentum"]
    export_html(BOWL, out, methods=methods, steps=60, grid=101)
    d = export_data(BOWL, methods=methods, steps=60, grid=101)["descent"]
    context, page, asked, errors = open_file_offline(browser, out)
    try:
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("#descent-panel[data-state=done]")
        name, data = download(page, lambda: page.click("#save-csv"))
        assert name == "chainrule-paths.csv"
        assert_paths_are_chainrules(read_csv(data), compile_expression(BOWL), (d["x"], d["y"]),
                                    d["lr"], 60, methods)
        _, data = download(page, lambda: page.click("#save-png"))
        img = rgb(data)
        r = rects(page)
        assert img.shape[1] == round(r["surface3d"][0] + r["surface3d"][2] - r["contour"][0])
        assert colours(img[:, : round(r["contour"][2])]) > 200
        assert colours(img[:, round(r["surface3d"][0] - r["contour"][0]):]) > 200
        caption = " ".join(page.evaluate("window.chainrule.saved.caption"))
        assert "the point snaps to its nodes" in caption  # the exported figure's own caption
    finally:
        context.close()
    assert errors == []
    assert asked == [out.as_uri()]
