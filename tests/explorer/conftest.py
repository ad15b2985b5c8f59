"""Fixtures of the explorer's browser tests (``test_browser.py``, ``test_classroom.py``): a
real server, a headless Chromium, and one page per module watched for console errors and
for requests off 127.0.0.1. Modules that use them call :func:`.browser.require` at import
time, so they skip with the reason when Chromium or Playwright is missing; the other
tests of this folder never start either."""

import pytest

from .browser import TIMEOUT, Watch, launch, require, serve


@pytest.fixture(scope="module")
def server():
    with serve() as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with launch(require()) as b:
        yield b


@pytest.fixture(scope="module")
def session(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    page.set_default_timeout(TIMEOUT)
    watch = Watch(page)
    page.goto(server.url)
    page.wait_for_selector("body[data-ready=true]")
    yield page, watch
    page.close()


@pytest.fixture
def watch(session):
    return session[1]


@pytest.fixture
def page(session, watch):
    yield session[0]
    watch.check()
