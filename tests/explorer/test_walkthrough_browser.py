"""The walkthrough tab in headless Chromium (Playwright) against a uvicorn server on
127.0.0.1: step through a whole forward and backward pass checking every number shown
against eqs. 5.9–5.12 computed here, edit a weight, take a gradient-descent step, and walk
through a typed expression."""

import numpy as np
import pytest

from .browser import Watch, launch, require, serve
from .test_walkthrough_api import by_hand, expected_weight, node_expected

pytestmark = pytest.mark.browser
sync_api = require()

NET = "#wt-network"


@pytest.fixture(scope="module")
def page():
    with serve() as server, launch(sync_api) as browser:
        assert server.url.startswith("http://127.0.0.1:")
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(30_000)
        watch = Watch(page)
        page.goto(server.url + "#walkthrough")
        page.wait_for_selector("#wt-net-svg .wt-node")
        yield page
        watch.take_http_errors(400)  # the deliberate typing mistake below
        watch.check()


def shown(page, selector):
    """(number as displayed, full-precision data-value) of an element."""
    el = page.locator(selector)
    text = el.text_content().replace("∂", "").strip()
    return float(text), float(el.get_attribute("data-value"))


def close(displayed, exact, full):
    assert displayed == pytest.approx(exact, rel=1e-3, abs=1e-6)  # 4 significant digits
    assert full == pytest.approx(exact, rel=1e-12, abs=1e-14)


def read_spec(page):
    ws = dict(page.eval_on_selector_all(
        f"{NET} input.wt-weight", "els => els.map(e => [e.dataset.weight, parseFloat(e.value)])"))
    xs = page.eval_on_selector_all(f"{NET} input.wt-x", "els => els.map(e => parseFloat(e.value))")
    ts = page.eval_on_selector_all(f"{NET} input.wt-t", "els => els.map(e => parseFloat(e.value))")
    D, K = len(xs), len(ts)
    M = sum(1 for k in ws if k.startswith("b1_"))
    return {"x": xs, "target": ts,
            "W1": [[ws[f"W1_{j}_{i}"] for i in range(1, D + 1)] for j in range(1, M + 1)],
            "b1": [ws[f"b1_{j}"] for j in range(1, M + 1)],
            "W2": [[ws[f"W2_{k}_{j}"] for j in range(1, M + 1)] for k in range(1, K + 1)],
            "b2": [ws[f"b2_{k}"] for k in range(1, K + 1)]}


def check_weight_row(page, wid, ref):
    exact = expected_weight(ref, wid)
    close(*shown(page, f'{NET} td.wt-wgrad[data-weight="{wid}"]'), exact)
    fd_text, fd = shown(page, f'{NET} td.wt-fd[data-weight="{wid}"]')
    assert fd == pytest.approx(exact, rel=1e-6, abs=1e-8)
    assert fd_text == pytest.approx(exact, rel=2e-3, abs=1e-6)


def test_step_through_the_whole_forward_and_backward_pass(page):
    spec = read_spec(page)
    ref = by_hand(spec)
    D, M, K = len(spec["x"]), len(spec["b1"]), len(spec["b2"])
    page.click(f"{NET} .wt-reset")
    assert page.text_content(f"{NET} .wt-pos") == f"step 0 of {2 * M + K + 1 + 2 * M + K + D + 3}"
    assert page.get_attribute('[data-node="h1"]', "data-value") == ""

    forward = [f"h{j}" for j in range(1, M + 1)] + [f"z{j}" for j in range(1, M + 1)] \
        + [f"y{k}" for k in range(1, K + 1)] + ["E"]
    for node in forward:
        page.click(f"{NET} .wt-next")
        value = node_expected(ref, node)[0]
        assert page.locator(f'#wt-net-svg [data-node="{node}"].filling').count() == 1
        close(*shown(page, f"{NET} .wt-step-value"), value)
        text = page.text_content(f'#wt-net-svg [data-node="{node}"] .wt-v')
        assert float(text) == pytest.approx(value, rel=1e-3, abs=1e-6)
    close(*shown(page, "#wt-E"), ref["E"])

    nodes_done, weights_done = [], []
    for _ in range(1 + K + 1 + 2 * M + 1 + D):  # E, y_k, W2, z_j, h_j, W1, x_i
        page.click(f"{NET} .wt-next")
        receiving = page.eval_on_selector_all("#wt-net-svg .wt-node.receiving",
                                              "els => els.map(e => e.dataset.node)")
        if receiving:  # a unit: its gradient is the sum of the products on its edges
            [node] = receiving
            grad = node_expected(ref, node)[1]
            close(*shown(page, f"{NET} .wt-step-total"), grad)
            assert float(page.get_attribute(f"{NET} .wt-step-grad", "data-value")) == \
                pytest.approx(grad, rel=1e-12, abs=1e-14)
            g_text = page.text_content(f'#wt-net-svg [data-node="{node}"] .wt-g')
            assert float(g_text.replace("∂", "")) == pytest.approx(grad, rel=1e-3, abs=1e-6)
            products = [float(v) for v in page.eval_on_selector_all(
                f"{NET} tr.wt-term td.wt-product", "els => els.map(e => e.dataset.value)")]
            if node == "E":  # the start: ∂E/∂E = 1, nothing to multiply yet
                assert products == [] and grad == 1.0
            else:
                assert sum(products) == pytest.approx(grad, rel=1e-12, abs=1e-14)
            if node.startswith("z"):  # the paths from every output meet at z_j
                assert len(products) == K
                assert page.locator("#wt-net-svg line.wt-edge.hot").count() == K
            nodes_done.append(node)
        else:  # a layer of weights: ∂E/∂w beside the finite difference
            hot = page.eval_on_selector_all(f"{NET} tr.wt-term",
                                            "els => els.map(e => e.dataset.dst)")
            for wid in hot:
                check_weight_row(page, wid, ref)
            weights_done += hot
    assert nodes_done == ["E"] + [f"y{k}" for k in range(1, K + 1)] \
        + [f"z{j}" for j in range(1, M + 1)] + [f"h{j}" for j in range(1, M + 1)] \
        + [f"x{i}" for i in range(1, D + 1)]
    assert len(weights_done) == M * (D + 1) + K * (M + 1)
    total = page.text_content(f"{NET} .wt-pos").split()[-1]
    assert page.text_content(f"{NET} .wt-pos") == f"step {total} of {total}"


def test_editing_a_weight_changes_the_numbers(page):
    page.click(f"{NET} .wt-all")
    before = read_spec(page)
    old_E = shown(page, "#wt-E")[1]
    version = page.get_attribute(NET, "data-version")
    box = f'{NET} input.wt-weight[data-weight="W2_1_2"]'
    page.fill(box, "0.95")
    page.press(box, "Tab")
    page.wait_for_function(f"v => document.querySelector('{NET}').dataset.version !== v",
                           arg=version)
    spec = read_spec(page)
    assert spec["W2"][0][1] == 0.95 and spec["W1"] == before["W1"]
    ref = by_hand(spec)
    E = shown(page, "#wt-E")
    assert E[1] != pytest.approx(old_E)
    close(*E, ref["E"])
    for node in ("y1", "z2", "h1", "x1"):
        grad = float(page.get_attribute(f'#wt-net-svg [data-node="{node}"]', "data-grad"))
        assert grad == pytest.approx(node_expected(ref, node)[1], rel=1e-12, abs=1e-14)
    for wid in ("W2_1_2", "W1_1_1", "b2_1"):
        check_weight_row(page, wid, ref)


def test_gradient_descent_step_shows_E_before_and_after(page):
    spec = read_spec(page)
    ref = by_hand(spec)
    page.fill("#wt-eta", "0.3")
    version = page.get_attribute(NET, "data-version")
    page.click("#wt-gd")
    page.wait_for_function(f"v => document.querySelector('{NET}').dataset.version !== v",
                           arg=version)
    result = page.locator("#wt-gd-result")
    assert float(result.get_attribute("data-before")) == pytest.approx(ref["E"], rel=1e-12)
    new = {k: (np.array(spec[k]) - 0.3 * ref["g" + k]).tolist() for k in ("W1", "b1", "W2", "b2")}
    after = by_hand(dict(spec, **new))["E"]
    assert float(result.get_attribute("data-after")) == pytest.approx(after, rel=1e-12)
    assert after < ref["E"]
    moved = read_spec(page)
    np.testing.assert_allclose(moved["W2"], new["W2"], rtol=1e-12)
    close(*shown(page, "#wt-E"), after)


def test_walkthrough_of_a_typed_expression(page):
    page.check('input[name="wt-mode"][value="expression"]')
    page.wait_for_selector("#wt-ex-svg .wt-node")
    page.fill("#wt-expr", "x*x*y + exp(y)")
    page.fill("#wt-ex-x", "1.5")
    page.fill("#wt-ex-y", "-0.5")
    page.click("#wt-ex-go")
    page.wait_for_function("() => document.querySelector('#wt-ex-svg [data-node]') && "
                           "[...document.querySelectorAll('#wt-ex-svg .wt-node')].some("
                           "e => e.textContent.includes('exp'))")
    x, y = 1.5, -0.5
    page.click("#wt-expression .wt-all")
    grads = dict(page.eval_on_selector_all(
        "#wt-ex-svg .wt-node.var", "els => els.map(e => [e.textContent[0], e.dataset.grad])"))
    assert float(grads["x"]) == pytest.approx(2 * x * y, rel=1e-12)
    assert float(grads["y"]) == pytest.approx(x * x + np.exp(y), rel=1e-12)
    assert "∂F/∂x = " in page.text_content("#wt-ex-result")
    # the last step reaches x: its two uses (in x*x) meet there and their products add up
    products = page.eval_on_selector_all("#wt-expression tr.wt-term td.wt-product",
                                         "els => els.map(e => parseFloat(e.dataset.value))")
    assert products == pytest.approx([x * y, x * y], rel=1e-12)
    total = float(page.get_attribute("#wt-expression .wt-step-total", "data-value"))
    assert total == pytest.approx(2 * x * y, rel=1e-12)
    # a mistake is shown with its column, and nothing is evaluated
    page.fill("#wt-expr", "x*(y+")
    page.click("#wt-ex-go")
    page.wait_for_selector("#wt-ex-error:not([hidden])")
    assert "column 6" in page.text_content("#wt-ex-error")
    page.check('input[name="wt-mode"][value="network"]')
