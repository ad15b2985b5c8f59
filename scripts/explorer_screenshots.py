"""Screenshots of the gradient explorer for the README, taken from the real page.

Starts the explorer on 127.0.0.1 (a free port), drives headless Chromium with Playwright,
and writes ``explorer.png`` (descent paths on the narrow ravine) and
``explorer-network.png`` (the network landscape, descending back to the trained weights)
into ``docs/images/`` (or ``--out``).

    python scripts/explorer_screenshots.py [--out docs/images] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from playwright.sync_api import sync_playwright

from chainrule.explorer.server import BackgroundServer

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parent.parent


def replot(page, action):
    before = int(page.get_attribute("body", "data-plotted") or 0)
    action()
    page.wait_for_function("n => Number(document.body.dataset.plotted || 0) > n", arg=before)


def settle(page):
    page.wait_for_function("""() => {
        const d = document.getElementById('point-panel').dataset;
        return d.x === d.wantX && d.y === d.wantY; }""")
    page.wait_for_timeout(1500)  # let the 3-D scene and the Taylor plot finish drawing


def set_lr(page, lr):
    page.eval_on_selector(
        "#lr", f"el => {{ el.value = {math.log10(lr)}; el.dispatchEvent(new Event('input')); }}"
    )


def descent_shot(page, path):
    replot(page, lambda: page.select_option("#preset", "ravine"))
    for box in page.query_selector_all("#methods input"):
        box.set_checked(box.get_attribute("value") in ("gd", "momentum", "adam"))
    page.fill("#eta", "0.075")
    page.dispatch_event("#eta", "change")
    page.fill("#steps", "60")
    page.click("#run")
    page.wait_for_selector("#descent-panel[data-state=done]")
    settle(page)
    page.screenshot(path=str(path), full_page=True)


def network_shot(page, path):
    replot(page, lambda: page.check('input[name="mode"][value="network"]'))
    page.wait_for_selector("#fit-panel:not([hidden])")
    settle(page)
    a, b = page.evaluate("""() => { const d = document.getElementById('point-panel').dataset;
        return [Number(d.x), Number(d.y)]; }""")
    page.fill("#px", f"{a - 1.2:.4f}")
    page.fill("#py", f"{b + 0.6:.4f}")
    page.dispatch_event("#py", "change")
    settle(page)
    for box in page.query_selector_all("#methods input"):
        box.set_checked(box.get_attribute("value") in ("gd", "adam"))
    page.fill("#eta", "0.02")
    page.dispatch_event("#eta", "change")
    page.fill("#steps", "150")
    page.click("#run")
    page.wait_for_selector("#descent-panel[data-state=done]")
    settle(page)
    page.screenshot(path=str(path), full_page=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with BackgroundServer() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1150})
        page.set_default_timeout(120_000)
        page.goto(server.url)
        page.wait_for_selector("body[data-ready=true]")
        for name, shot in (("explorer.png", descent_shot), ("explorer-network.png", network_shot)):
            shot(page, args.out / name)
            print(f"wrote {args.out / name}")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
