"""The documentation site: `mkdocs build --strict` passes, and the built pages work offline.

Offline means: no page loads a script, style sheet, font, image or frame from another
host, at build time (the build runs here without network) or at view time (checked in the
HTML and CSS, and by opening pages in Chromium with every request watched). Links a
reader may click (``<a href>``) are not fetches and may point anywhere.
"""

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .conftest import TIMINGS

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')")
pytest.importorskip("material", reason="the docs extra is not installed (mkdocs-material)")
pytest.importorskip("mkdocstrings", reason="the docs extra is not installed (mkdocstrings)")

# (tag, attribute) pairs whose URL the browser fetches on its own
FETCHED = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"),
           ("source", "src"), ("source", "srcset"), ("img", "srcset"), ("video", "src"),
           ("audio", "src"), ("embed", "src"), ("object", "data"), ("image", "href"),
           ("use", "href")}
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.I)
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""", re.I)


class _Fetches(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.styles, self._in_style = [], [], False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (tag, name) in FETCHED:
                if tag == "link" and name == "href" and dict(attrs).get("rel") in (
                        "canonical", "alternate", "prev", "next"):
                    continue  # a link relation, not a fetch
                self.urls.append(f"<{tag} {name}={value!r}>")
            if name == "style" and value:
                self.styles.append(value)
        self._in_style = tag == "style"

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)

    def handle_endtag(self, tag):
        self._in_style = False


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1",
             "PYTHONPATH": str(ROOT / "src")},
    )
    TIMINGS["mkdocs build --strict"] = time.perf_counter() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_build_is_strict_and_has_every_page(site):
    for page in ["index", "notebooks", "concepts", "explorer", "graphs", "cli", "performance",
                 "api/index", "api/core", "api/nn", "api/optim", "api/data", "api/io",
                 "api/viz", "api/explorer", "api/compile", "api/gradcheck", "api/errors"]:
        assert (site / f"{page}.html").is_file(), page


def test_no_page_fetches_from_another_host(site):
    found = []
    for html in site.rglob("*.html"):
        parser = _Fetches()
        parser.feed(html.read_text(encoding="utf-8"))
        found += [f"{html.name}: {u}" for u in parser.urls if EXTERNAL.search(
            u.split("=", 1)[1].strip("'>\""))]
        found += [f"{html.name}: {u}" for s in parser.styles for u in CSS_URL.findall(s)]
    for css in site.rglob("*.css"):
        found += [f"{css.name}: {u}" for u in CSS_URL.findall(css.read_text(encoding="utf-8"))]
    assert found == []


def test_the_scanner_finds_what_it_looks_for():
    parser = _Fetches()
    parser.feed('<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
                '<script src="//cdn.example/x.js"></script><a href="https://ok.example">'
                '<style>@import "https://x.example/a.css";</style>')
    external = [u for u in parser.urls if EXTERNAL.search(u.split("=", 1)[1].strip("'>\""))]
    assert len(external) == 2
    assert CSS_URL.findall(parser.styles[0]) == ["https://x.example/a.css"]


def test_no_web_fonts_and_no_mermaid(site):
    # Material loads Google Fonts unless theme.font is false, and mermaid from unpkg when a
    # page has a mermaid block: neither may happen.
    text = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    assert "fonts.googleapis" not in text and "fonts.gstatic" not in text
    assert 'class="mermaid"' not in text


def test_api_reference_documents_the_public_names(site):
    core = (site / "api" / "core.html").read_text(encoding="utf-8")
    for ident in ["chainrule.tensor.Tensor", "chainrule.tensor.Tensor.backward",
                  "chainrule.autograd.grad", "chainrule.autograd.no_grad",
                  "chainrule.ops.tanh", "chainrule.creation.tensor"]:
        assert f'id="{ident}"' in core, ident
    nn = (site / "api" / "nn.html").read_text(encoding="utf-8")
    assert 'id="chainrule.nn.Linear"' in nn and 'id="chainrule.nn.functional.mse_loss"' in nn


def test_cli_page_shows_the_parsers_help(site):
    from chainrule.cli import COMMANDS

    text = (site / "cli.html").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"usage: chainrule {command}" in text, command


def _serve(folder):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_pages_in_a_browser_request_nothing_outside(site):
    """Open pages in Chromium as a reader would; every request stays on 127.0.0.1."""
    sys.path.insert(0, str(ROOT / "tests"))
    from explorer.browser import CHROMIUM, Watch, launch

    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.skip(f"browser check needs Chromium at {CHROMIUM}")
    sync_api = pytest.importorskip("playwright.sync_api")
    server = _serve(site)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with launch(sync_api) as browser:
            page = browser.new_page()
            watch = Watch(page)
            for path in ["index.html", "concepts.html", "graphs.html", "api/core.html"]:
                page.goto(f"{base}/{path}", wait_until="networkidle")
                assert page.locator("h1").first.is_visible()
            page.keyboard.press("/")           # Material's search shortcut
            page.keyboard.type("gradcheck")
            page.wait_for_selector(".md-search-result__item", timeout=10000)
            watch.check()
    finally:
        server.shutdown()
