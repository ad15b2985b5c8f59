"""Shared set-up of the browser tests: Debian's Chromium driven by Playwright against a real
uvicorn server on 127.0.0.1, and a watch on console errors and on every request the page
makes (none may leave 127.0.0.1). Test modules call :func:`require` at import time, which
skips them with the reason when Chromium or Playwright is missing."""

import os
import shutil
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("CHAINRULE_CHROMIUM", "/usr/bin/chromium")
TIMEOUT = 60_000  # ms; generous: without a GPU, 3-D redraws are slow on a busy machine
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def require():
    """The ``playwright.sync_api`` module, or skip the calling test module."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)",
                    allow_module_level=True)
    pytest.importorskip("fastapi", reason="the explorer needs the 'explore' extra")
    return pytest.importorskip("playwright.sync_api",
                               reason="browser tests need Playwright (pip install playwright)")


def serve():
    """A context manager: the explorer served on a free port of 127.0.0.1."""
    from chainrule.explorer.server import BackgroundServer

    return BackgroundServer("127.0.0.1", 0)


def launch(sync_api):
    """A context manager yielding a headless Chromium browser."""
    from contextlib import contextmanager

    @contextmanager
    def browser():
        with sync_api.sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                yield b
            finally:
                b.close()

    return browser()


def open_file_offline(browser, path):
    """A page in a new context of ``browser`` with the local file ``path`` open and every
    other request refused. Returns ``(context, page, asked, errors)``: the URLs the page
    asked for, and its console and page errors."""
    from pathlib import Path

    uri = Path(path).as_uri()
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    asked, errors = [], []

    def only_the_file(route):
        asked.append(route.request.url)
        if route.request.url == uri:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_the_file)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(uri)
    return context, page, asked, errors


class Watch:
    """Console errors, page errors and every request URL the page made."""

    def __init__(self, page):
        self.errors, self.urls = [], []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url}"))
        page.on("request", lambda r: self.urls.append(r.url))

    def take_http_errors(self, status):
        """Remove (and count) the console lines Chromium logs for replies with ``status``."""
        mine = [e for e in self.errors if f"status of {status}" in e]
        self.errors = [e for e in self.errors if e not in mine]
        return len(mine)

    def check(self):
        assert self.errors == [], self.errors
        for url in self.urls:
            parsed = urlparse(url)
            assert parsed.scheme in ("data", "blob") or parsed.hostname == "127.0.0.1", url
        self.errors.clear()


# ------------------------------------------------ the notebook widget (widget.js)
def point_px(page, w):
    """Where the widget draws (w.x, w.y), in page pixels, from its axes' mapping."""
    box = page.locator(".cr-over").bounding_box()
    (x0, x1), (y0, y1) = w.xrange, w.yrange
    left, right, top, bottom = 46, 10, 10, 30
    return (box["x"] + left + (w.x - x0) / (x1 - x0) * (box["width"] - left - right),
            box["y"] + top + (y1 - w.y) / (y1 - y0) * (box["height"] - top - bottom))


def red_at(page, px, py):
    """Is the pixel at page (px, py) of the overlay canvas the point's red?"""
    return page.evaluate("""([px, py]) => {
      const c = document.querySelector('.cr-over'), r = c.getBoundingClientRect();
      const k = c.width / r.width;
      const d = c.getContext('2d').getImageData((px - r.left) * k, (py - r.top) * k, 1, 1).data;
      return d[0] > 200 && d[1] < 60 && d[2] < 60 && d[3] > 200; }""", [px, py])
