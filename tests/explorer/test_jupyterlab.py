"""A real JupyterLab smoke test of the notebook widget :class:`chainrule.explorer.Explorer`.

``jupyter lab`` runs headless on a free port of 127.0.0.1, in a temporary directory with its
own HOME, Jupyter config, data and runtime directories (nothing from the user's home is
read), with a token. Chromium opens a notebook there; its cells create the widget, which
JupyterLab renders through anywidget's lab extension and the ipywidgets comm to a real
ipykernel. A real mouse drag on the widget's canvas and an arrow key move the point; the
next cell prints the kernel's ``w.x``, ``w.y``, ``w.value``, and a cell setting ``w.x``
moves the drawn point. Teardown stops the server and the kernel and checks that no process
started here is left.
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from .browser import TIMEOUT, Watch, launch, point_px, red_at, require

sync_api = require()
pytest.importorskip("anywidget", reason="the Explorer needs the widget extra")
pytest.importorskip("jupyterlab", reason="the JupyterLab smoke test needs jupyterlab "
                    "(in the test extra: pip install -e '.[test]')")
pytest.importorskip("ipykernel", reason="the JupyterLab smoke test needs ipykernel")
nbformat = pytest.importorskip("nbformat", reason="the JupyterLab smoke test needs nbformat")

import chainrule  # noqa: E402

pytestmark = pytest.mark.browser
START = 90  # s: the server's start, bounded; on a busy 2-core machine it takes ~5-15 s
CELLS = [  # each prints a marker and a JSON list (floats as repr: exact)
    'import json, os, sys, chainrule\n'
    'print("ENV", json.dumps([os.getpid(), chainrule.__file__, sys.prefix]))',
    'from chainrule.explorer import Explorer; w = Explorer("x^2 + 3*y^2"); w',
    'print("POINT", json.dumps([w.x, w.y, w.value]))',
    'w.x = 0.5\nprint("SET", json.dumps([w.x, w.y, w.value]))',
]


def F(x, y):
    return x ** 2 + 3 * y ** 2


def ours(root):
    """The ids of live processes whose command line names ``root`` (the server, its
    kernel): only processes this module started do."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if str(root).encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def stop(proc, root):
    """Stop the server (SIGTERM shuts its kernels down), then kill by id whatever it left;
    the list of processes still running after that (none, when all went well)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    deadline = time.monotonic() + 10
    while (left := ours(root)) and time.monotonic() < deadline:
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    return ours(root)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``jupyter lab`` serving a temporary directory holding ``smoke.ipynb``: its URL and
    token. Its environment is this process's (PYTHONPATH included, so the kernel imports
    the same chainrule) with Jupyter's directories and HOME moved into the temporary
    directory."""
    if not Path("/proc").is_dir():
        pytest.skip("the JupyterLab smoke test finds its processes in /proc (Linux)")
    root = tmp_path_factory.mktemp("jupyterlab")
    work, home = root / "work", root / "home"
    work.mkdir()
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "IPYTHON", "XDG_"))}
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(root / "config"),
               JUPYTER_DATA_DIR=str(root / "data"), JUPYTER_RUNTIME_DIR=str(root / "runtime"),
               IPYTHONDIR=str(root / "ipython"))
    settings = root / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    # no request leaves 127.0.0.1 and no toast covers the cell: no news feed (nor the
    # question whether to fetch it), no update check, no PyPI extension manager; the
    # server and kernel also end on their own should this process die before its teardown
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    (root / "config" / "jupyter_server_config.json").write_text(json.dumps({
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                   "extension_manager": "readonly"},
        "ServerApp": {"shutdown_no_activity_timeout": 600,
                      "allow_root": os.geteuid() == 0},  # CI runs as root
        "MappingKernelManager": {"cull_idle_timeout": 600, "cull_interval": 60},
    }))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, work / "smoke.ipynb")
    token = secrets.token_hex(16)
    log = open(root / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.port=0", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={work}",
         f"--IdentityProvider.token={token}"],
        env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        info = root / "runtime" / f"jpserver-{proc.pid}.json"
        deadline, url = time.monotonic() + START, None
        while url is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("jupyter lab did not start:\n" + (root / "server.log").read_text())
            if info.exists():
                try:
                    url = f"http://127.0.0.1:{json.loads(info.read_text())['port']}"
                    urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                except (ValueError, KeyError, OSError):
                    url = None  # the file is half-written, or the server not yet serving
            if url is None:
                time.sleep(0.1)
        yield SimpleNamespace(url=url, token=token, root=root)
    finally:
        left = stop(proc, root)
        log.close()
        assert left == [], f"processes left running: {left}"


@pytest.fixture(scope="module")
def browser():
    with launch(sync_api) as b:
        yield b


def run_cell(page, i, marker, shots):
    """Run cell ``i`` as a person does (click its editor, Ctrl+Enter) and return its
    output's text once it shows ``marker`` (a screenshot goes to ``shots`` if it never
    does)."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(i)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    prompt = cell.locator(".jp-InputPrompt")
    try:
        # queued ([*]) or run ([n]); a press the notebook was not ready for is repeated once
        prompt.filter(has_text=re.compile(r"\[[*0-9]")).wait_for(timeout=10_000)
    except sync_api.TimeoutError:
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Control+Enter")
    out = cell.locator(".jp-OutputArea-output").filter(has_text=marker)
    try:
        out.wait_for(timeout=TIMEOUT)
    except sync_api.TimeoutError:
        page.screenshot(path=str(shots / f"cell-{i}-failed.png"))
        raise
    return out.text_content()


def printed(text, marker):
    """The JSON list a cell printed after ``marker``."""
    m = re.search(re.escape(marker) + r" (\[.*\])", text)
    assert m, f"no {marker} line in {text!r}"
    return json.loads(m.group(1))


def readout(page):
    """x, y and F as the widget's readout shows them."""
    text = page.locator(".jp-Notebook .cr-readout").text_content()
    m = re.search(r"\(x, y\) = \((\S+), (\S+)\)\s+F = (\S+)", text)
    assert m, text
    return [float(v) for v in m.groups()]


READOUT_SETTLED = """() => { // the readout's F is the kernel's F at the readout's point
  const t = document.querySelector('.cr-readout').textContent;
  const m = t.match(/\\(x, y\\) = \\(([-\\d.e+]+), ([-\\d.e+]+)\\)\\s+F = ([-\\d.e+]+)/);
  if (!m) return false;
  const [x, y, f] = m.slice(1).map(Number), want = x * x + 3 * y * y;
  return (x !== 0 || y !== 0) && Math.abs(f - want) <= 1e-4 * (1 + want);
}"""


ACTIVE_CELL = """[...document.querySelectorAll('.jp-Notebook .jp-Cell')]
  .findIndex((c) => c.classList.contains('jp-mod-active'))"""


def test_widget_in_jupyterlab(lab, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    page.set_default_timeout(TIMEOUT)
    watch = Watch(page)
    page.goto(f"{lab.url}/lab/tree/smoke.ipynb?token={lab.token}")
    page.locator(".jp-Notebook .jp-Cell").nth(len(CELLS) - 1).wait_for()
    page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for()

    # the kernel is this venv's Python with this tree's chainrule
    pid, path, prefix = printed(run_cell(page, 0, "ENV", tmp_path), "ENV")
    assert os.path.realpath(path) == os.path.realpath(chainrule.__file__)
    assert os.path.realpath(prefix) == os.path.realpath(sys.prefix)
    assert int(pid) in ours(lab.root)

    # the widget renders: the point drawn red at (0, 0), the domain's centre
    run_cell(page, 1, "", tmp_path)
    over = page.locator(".jp-Notebook .cr-over")
    over.wait_for()
    page.wait_for_function("document.querySelector('.cr-readout').textContent.includes('F =')")
    domain = dict(xrange=[-3.0, 3.0], yrange=[-3.0, 3.0])
    start = point_px(page, SimpleNamespace(x=0.0, y=0.0, **domain))
    assert red_at(page, *start)

    # a real drag, left and up; then ArrowRight and ArrowUp move x and y by 2% of the range
    page.mouse.move(*start)
    page.mouse.down()
    for k in range(1, 11):
        page.mouse.move(start[0] - 9 * k, start[1] - 6 * k)
    end = (start[0] - 90, start[1] - 60)
    page.mouse.up()
    box = over.bounding_box()
    x_drag = -3 + (end[0] - box["x"] - 46) / (box["width"] - 56) * 6
    y_drag = 3 - (end[1] - box["y"] - 10) / (box["height"] - 40) * 6
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    page.wait_for_function(READOUT_SETTLED)
    # the keys moved the point, not JupyterLab's cell selection (ArrowUp is its shortcut)
    assert page.evaluate("document.activeElement.classList.contains('cr-over')")
    assert page.evaluate(ACTIVE_CELL) == 1
    over.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "jupyterlab-dragged.png"))

    x, y, value = printed(run_cell(page, 2, "POINT", tmp_path), "POINT")
    px, py = 6 / (box["width"] - 56), 6 / (box["height"] - 40)  # one pixel, in x and y
    assert x == pytest.approx(x_drag + 0.12, abs=2 * px)
    assert y == pytest.approx(y_drag + 0.12, abs=2 * py)
    assert x < -0.5 and y > 0.5
    assert value == pytest.approx(F(x, y), rel=0, abs=1e-12)
    assert readout(page) == pytest.approx([x, y, value], rel=1e-5)

    # Python -> front end: w.x = 0.5 moves the drawn point and the readout
    x2, y2, value2 = printed(run_cell(page, 3, "SET", tmp_path), "SET")
    assert (x2, y2) == (0.5, y) and value2 == pytest.approx(F(0.5, y), rel=0, abs=1e-12)
    page.locator(".cr-readout").filter(has_text="(x, y) = (0.500000,").wait_for()
    assert readout(page) == pytest.approx([0.5, y, value2], rel=1e-5)
    moved = point_px(page, SimpleNamespace(x=0.5, y=y, **domain))
    assert red_at(page, *moved) and not red_at(page, *point_px(
        page, SimpleNamespace(x=x, y=y, **domain)))
    over.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "jupyterlab-set.png"))
    watch.check()
    page.close()
