"""The exported figure: one self-contained HTML file whose numbers are chainrule's.

Opened from file:// in headless Chromium with every request but the file itself refused,
it draws, drags, steps and shows its descent paths; every value it shows matches
chainrule's to 1e-9."""

import math
import re

import pytest

from chainrule.errors import UserError
from chainrule.explorer import compute, descent
from chainrule.explorer.parser import ExpressionError, compile_expression

from .browser import ARGS, CHROMIUM, open_file_offline, require
from .test_browser import to_pixels

pytest.importorskip("plotly", reason="exporting needs the 'explore' extra")
from chainrule.explorer.export import export_data, export_html  # noqa: E402

BOWL = compile_expression("x^2 + 3*y^2")


def test_exported_numbers_are_chainrules():
    d = export_data("x^2 + 3*y^2", methods=["gd", "adam"], steps=30, grid=41)
    s = d["surface"]
    assert len(s["x"]) == 41 and s["domain"] == (-2.0, 2.0, -2.0, 2.0)  # the preset's box
    for i, j in [(0, 0), (7, 30), (40, 40)]:
        p = compute.point(BOWL, s["x"][j], s["y"][i])
        assert s["z"][i][j] == pytest.approx(p["f"], abs=1e-12)
        assert (s["gx"][i][j], s["gy"][i][j]) == (pytest.approx(p["gx"]), pytest.approx(p["gy"]))
    dd = d["descent"]
    assert dd["x"] in s["x"] and dd["y"] in s["y"]  # the start is a node
    ref = descent.run(BOWL, (dd["x"], dd["y"]), "adam", 0.1, 30)
    assert d["descent"]["paths"][1]["x"] == pytest.approx(ref["x"], abs=1e-12)
    assert d["query"]["preset"] == "elongated" and d["query"]["opt"] == "gd,adam"


@pytest.mark.parametrize("kwargs, words", [
    ({"grid": 1}, "grid must be a whole number from 2 to 201"),
    ({"steps": 0}, "steps must be a whole number from 1 to 1000"),
    ({"methods": ["newton"]}, "methods must be some of"),
    ({"eta": -1.0}, "eta must be a number above 0"),
])  # fmt: skip
def test_bad_export_options_are_refused(kwargs, words):
    with pytest.raises(UserError, match=words):
        export_data("x^2", **kwargs)
    with pytest.raises(ExpressionError):
        export_data("__import__('os')")


def test_the_file_is_self_contained(tmp_path):
    out = tmp_path / "figure.html"
    text = export_html("saddle", out, steps=20)
    assert out.read_text(encoding="utf-8") == text
    # no external script, style or image: every src/href is inline or a data: URL
    refs = re.findall(r'<(?:script|link|img|iframe)[^>]*(?:src|href)="([^"]+)"', text)
    assert [r for r in refs if not r.startswith("data:")] == []
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    # data, plotly.js, tabs.js, export.js, explorer.js, download.js
    assert text.count("\n<script") == 6
    # the README's spelling, chainrule.explorer.export_html, writes the same file
    import chainrule.explorer

    again = tmp_path / "again.html"
    assert chainrule.explorer.export_html("saddle", again, steps=20) == text
    assert again.read_text(encoding="utf-8") == text


def test_cli_export_figure(tmp_path, capsys):
    from chainrule.cli import main

    out = tmp_path / "figure.html"
    assert main(["export-figure", "x^2 + 3*y^2", "--out", str(out), "--methods", "gd,momentum",
                 "--steps", "50"]) == 0
    said = capsys.readouterr().out
    assert f"wrote {out}" in said and "MB" in said and out.stat().st_size > 4_000_000
    assert main(["export-figure", "x + )", "--out", str(tmp_path / "bad.html")]) != 0
    assert "unexpected ')'" in capsys.readouterr().err


@pytest.mark.browser
def test_exported_file_works_from_disk_with_the_network_blocked(tmp_path):
    sync_api = require()
    out = tmp_path / "figure.html"
    export_html("x^2 + 3*y^2", out, methods=["gd", "momentum"], steps=60, grid=101)
    d = export_data("x^2 + 3*y^2", methods=["gd", "momentum"], steps=60, grid=101)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        _, page, asked, errors = open_file_offline(browser, out)
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("#descent-panel[data-state=done]")

        def shown_matches_chainrule():
            x, y = page.eval_on_selector("#point-panel", "el => [Number(el.dataset.x), "
                                         "Number(el.dataset.y)]")
            p = compute.point(BOWL, x, y)
            for sel, key in (("#out-f", "f"), ("#out-gx", "gx"), ("#out-gy", "gy"),
                             ("#out-norm", "norm")):
                full = float(page.get_attribute(sel, "data-value"))
                assert full == pytest.approx(p[key], rel=1e-9, abs=1e-12)
                assert float(page.text_content(sel)) == pytest.approx(p[key], rel=1e-5)
            return x, y

        assert shown_matches_chainrule() == (d["descent"]["x"], d["descent"]["y"])
        # the descent paths drawn are chainrule's
        n = page.eval_on_selector_all("#ov-paths polyline", "els => els.map(e => e.dataset.n)")
        assert n == ["61", "61"]
        xs = page.evaluate("document.getElementById('surface3d').data[8].x")
        ref = d["descent"]["paths"][1]["x"]
        assert xs[:5] == pytest.approx(ref[:5], abs=1e-9)
        # drag the point: it snaps to a grid node, and the readouts are chainrule's there
        start = shown_matches_chainrule()
        sx, sy = to_pixels(page, *start)
        page.mouse.move(sx, sy)
        page.mouse.down()
        page.mouse.move(sx - 150, sy + 120, steps=6)
        page.mouse.up()
        page.wait_for_function("""() => { const d = document.getElementById('point-panel')
            .dataset; return d.x === d.wantX && d.y === d.wantY; }""")
        x, y = shown_matches_chainrule()
        assert (x, y) != start and x in d["surface"]["x"] and y in d["surface"]["y"]
        # one step −η∇F, then the arrow is redrawn at the new (snapped) point
        page.click("#one-step")
        page.wait_for_function("""([x, y]) => { const d = document.getElementById('point-panel')
            .dataset; return d.x === d.wantX && d.y === d.wantY && d.x !== String(x); }""",
                               arg=[x, y])
        x2, y2 = shown_matches_chainrule()
        assert math.hypot(x2 - (x - 0.1 * 2 * x), y2 - (y - 0.1 * 6 * y)) < 0.04  # one node
        browser.close()
    assert asked == [out.as_uri()]
    assert errors == []
