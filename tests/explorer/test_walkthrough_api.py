"""The walkthrough's API: every number against eqs. 5.9–5.12 written out here in NumPy,
the expression walkthrough against derivatives by hand, and bad input refused with a message."""

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the explorer needs the 'explore' extra")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx")
from fastapi.testclient import TestClient  # noqa: E402

from chainrule.explorer.app import create_app  # noqa: E402

TOL = dict(rel=1e-12, abs=1e-14)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def by_hand(spec):
    """The text's network and eqs. 5.9–5.12, independently of chainrule."""
    x, t = np.array(spec["x"], float), np.array(spec["target"], float)
    W1, b1 = np.array(spec["W1"], float), np.array(spec["b1"], float)
    W2, b2 = np.array(spec["W2"], float), np.array(spec["b2"], float)
    h = W1 @ x + b1
    z = np.tanh(h)
    y = W2 @ z + b2
    E = 0.5 * np.sum((y - t) ** 2)
    d_k = y - t  # δ_k = y_k − ŷ_k
    dE_dz = W2.T @ d_k  # Σ_k w_kj δ_k
    d_j = (1 - z**2) * dE_dz  # δ_j = (1 − z_j²) Σ_k w_kj δ_k
    return dict(x=x, t=t, W1=W1, b1=b1, W2=W2, b2=b2, h=h, z=z, y=y, E=E, d_k=d_k,
                dE_dz=dE_dz, d_j=d_j, gW2=np.outer(d_k, z), gb2=d_k,  # ∂E/∂w_kj = δ_k z_j
                gW1=np.outer(d_j, x), gb1=d_j, gx=W1.T @ d_j)  # ∂E/∂w_ji = δ_j x_i


def random_spec(rng, D, M, K):
    r = lambda *s: rng.uniform(-1.5, 1.5, size=s).round(6).tolist()  # noqa: E731
    return {"x": r(D), "target": r(K), "W1": r(M, D), "b1": r(M), "W2": r(K, M), "b2": r(K)}


def expected_weight(ref, wid):
    kind, *idx = wid.split("_")
    idx = [int(i) - 1 for i in idx]
    return {"W1": ref["gW1"], "b1": ref["gb1"], "W2": ref["gW2"], "b2": ref["gb2"]}[kind][
        tuple(idx)]


def node_expected(ref, nid):
    """(value, gradient) of a drawn node, from the hand computation."""
    if nid == "E":
        return ref["E"], 1.0
    layer, i = nid[0], int(nid[1:]) - 1
    if i < 0:
        return 1.0, None
    value = {"x": ref["x"], "h": ref["h"], "z": ref["z"], "y": ref["y"]}[layer][i]
    grad = {"x": ref["gx"], "h": ref["d_j"], "z": ref["dE_dz"], "y": ref["d_k"]}[layer][i]
    return value, grad


@pytest.mark.parametrize("sizes", [(1, 3, 1), (2, 3, 2), (4, 6, 4), (3, 1, 2)])
def test_network_numbers_equal_eqs_5_9_to_5_12(client, sizes):
    spec = random_spec(np.random.default_rng(sum(sizes)), *sizes)
    r = client.post("/api/walkthrough/network", json=spec)
    assert r.status_code == 200, r.text
    w = r.json()
    ref = by_hand(spec)
    D, M, K = sizes
    assert w["sizes"] == {"inputs": D, "hidden": M, "outputs": K}
    assert w["E"] == pytest.approx(ref["E"], **TOL)

    for n in w["nodes"]:
        value, grad = node_expected(ref, n["id"])
        assert n["value"] == pytest.approx(value, **TOL), n
        assert n["grad"] == (None if grad is None else pytest.approx(grad, **TOL)), n

    # the forward pass fills h, then z, then y, then E, one node a step
    order = [s["node"] for s in w["forward"]]
    assert order == [f"h{j}" for j in range(1, M + 1)] + [f"z{j}" for j in range(1, M + 1)] \
        + [f"y{k}" for k in range(1, K + 1)] + ["E"]
    for s in w["forward"]:
        assert s["value"] == pytest.approx(node_expected(ref, s["node"])[0], **TOL)

    # every weight: back-propagated gradient, eq. 5.12 / 5.10, and the finite difference
    assert len(w["weights"]) == M * (D + 1) + K * (M + 1)
    for wt in w["weights"]:
        exact = expected_weight(ref, wt["id"])
        assert wt["grad"] == pytest.approx(exact, **TOL), wt
        assert wt["fd"] == pytest.approx(exact, rel=1e-6, abs=1e-8), wt


def test_backward_steps_show_local_derivative_incoming_gradient_and_product(client):
    spec = random_spec(np.random.default_rng(7), 2, 3, 2)
    ref = by_hand(spec)
    steps = client.post("/api/walkthrough/network", json=spec).json()["backward"]
    assert steps[0]["node"] == "E" and steps[0]["grad"] == 1.0
    seen_nodes = [s["node"] for s in steps if s["node"]]
    assert seen_nodes == ["E", "y1", "y2", "z1", "z2", "z3", "h1", "h2", "h3", "x1", "x2"]
    for s in steps:
        for term in s["terms"]:
            assert term["product"] == pytest.approx(term["local"] * term["incoming"], **TOL)
        if s["node"] and s["node"] != "E":
            assert s["total"] == pytest.approx(sum(t["product"] for t in s["terms"]), **TOL)
            assert s["grad"] == pytest.approx(node_expected(ref, s["node"])[1], **TOL)
            assert s["total"] == pytest.approx(s["grad"], **TOL)
    by_node = {s["node"]: s for s in steps if s["node"]}
    # δ_k = y_k − ŷ_k: local derivative of E, incoming 1
    for k in (1, 2):
        [t] = by_node[f"y{k}"]["terms"]
        assert (t["local"], t["incoming"]) == (pytest.approx(ref["d_k"][k - 1], **TOL), 1.0)
    # the sum over k: one path from every output meets at z_j, each w_kj δ_k
    for j in (1, 2, 3):
        terms = by_node[f"z{j}"]["terms"]
        assert sorted(t["src"] for t in terms) == ["y1", "y2"]
        for t in terms:
            k = int(t["src"][1]) - 1
            assert t["local"] == pytest.approx(ref["W2"][k, j - 1], **TOL)
            assert t["incoming"] == pytest.approx(ref["d_k"][k], **TOL)
        # δ_j = (1 − z_j²) Σ_k w_kj δ_k
        [t] = by_node[f"h{j}"]["terms"]
        assert t["local"] == pytest.approx(1 - ref["z"][j - 1] ** 2, **TOL)
        assert t["product"] == pytest.approx(ref["d_j"][j - 1], **TOL)
    # the weight steps: ∂E/∂w_kj = δ_k z_j and ∂E/∂w_ji = δ_j x_i, bias inputs 1
    weight_steps = [s for s in steps if s["node"] is None]
    assert len(weight_steps) == 2
    for s in weight_steps:
        for t in s["terms"]:
            kind, *idx = t["dst"].split("_")
            row, col = int(idx[0]) - 1, (int(idx[1]) - 1 if len(idx) > 1 else None)
            src = {"W2": ref["z"], "W1": ref["x"]}.get(kind)
            assert t["local"] == pytest.approx(1.0 if src is None else src[col], **TOL)
            delta = ref["d_k"] if kind in ("W2", "b2") else ref["d_j"]
            assert t["incoming"] == pytest.approx(delta[row], **TOL)
            assert t["product"] == pytest.approx(expected_weight(ref, t["dst"]), **TOL)


def test_default_network_and_its_limits(client):
    spec = client.get("/api/walkthrough/network/default?inputs=3&hidden=4&outputs=2").json()
    assert len(spec["x"]) == 3 and len(spec["W1"]) == 4 and len(spec["W1"][0]) == 3
    assert len(spec["W2"]) == 2 and len(spec["b2"]) == 2
    assert max(abs(v) for row in spec["W1"] + spec["W2"] for v in row) <= 0.8
    assert client.post("/api/walkthrough/network", json=spec).status_code == 200
    r = client.get("/api/walkthrough/network/default?hidden=7")
    assert r.status_code == 422 and "hidden" in r.json()["error"]


def test_gradient_descent_step_equals_the_update_rule(client):
    spec = random_spec(np.random.default_rng(3), 2, 3, 2)
    ref = by_hand(spec)
    r = client.post("/api/walkthrough/network/step", json=dict(spec, eta=0.25))
    assert r.status_code == 200, r.text
    s = r.json()
    new = {k: (np.array(spec[k]) - 0.25 * ref["g" + k]).tolist() for k in ("W1", "b1", "W2", "b2")}
    for k, v in new.items():
        np.testing.assert_allclose(s["network"][k], v, rtol=1e-12, atol=1e-14)
    assert s["E_before"] == pytest.approx(ref["E"], **TOL)
    assert s["E_after"] == pytest.approx(by_hand(dict(spec, **new))["E"], **TOL)
    sq = sum(np.sum(ref["g" + k] ** 2) for k in ("W1", "b1", "W2", "b2"))
    assert s["predicted_change"] == pytest.approx(-0.25 * sq, **TOL)
    assert s["E_after"] < s["E_before"]  # a small step downhill lowers E


@pytest.mark.parametrize("change, words", [
    ({"W1": [[1.0, 2.0, 3.0]] * 3}, "W1 row 1 has 3 entries but there are 2 inputs"),
    ({"b2": [0.0]}, "b2 has 1 entries"),
    ({"W2": [[0.1, 0.2, 0.3]]}, "W2 has 1 rows but there are 2 targets"),
    ({"x": [1e9, 0.0]}, "x, entry 1 must be at most 100"),
    ({"x": ["one", 0.0]}, "x, entry 1 must be a finite number (got 'one')"),
    ({"W1": [[0.1, 0.2]] * 7, "b1": [0.0] * 7}, "W1"),
    ({"fd_step": 0}, "fd_step"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_network_input_is_refused_with_a_message(client, change, words):
    spec = dict(random_spec(np.random.default_rng(0), 2, 3, 2), **change)
    r = client.post("/api/walkthrough/network", json=spec)
    assert r.status_code == 422
    assert words in r.json()["error"]


def test_bad_step_sizes_are_refused(client):
    spec = random_spec(np.random.default_rng(0), 2, 3, 2)
    for eta in (0, -1, 11):
        r = client.post("/api/walkthrough/network/step", json=dict(spec, eta=eta))
        assert r.status_code == 422 and r.json()["error"].startswith("η must be")
    big = dict(spec, W2=[[99.9, 99.9, 99.9]] * 2, target=[-99.0, -99.0])
    r = client.post("/api/walkthrough/network/step", json=dict(big, eta=10))
    assert r.status_code == 400 and "smaller η" in r.json()["error"]


def test_expression_walkthrough_against_derivatives_by_hand(client):
    x, y = 0.7, -1.3
    r = client.post("/api/walkthrough/expression",
                    json={"expression": "x*y + sin(x) - y^2/2", "x": x, "y": y})
    assert r.status_code == 200, r.text
    w = r.json()
    assert w["value"] == pytest.approx(x * y + np.sin(x) - y**2 / 2, **TOL)
    assert w["gradient"]["x"] == pytest.approx(y + np.cos(x), **TOL)
    assert w["gradient"]["y"] == pytest.approx(x - y, **TOL)
    nodes = {n["id"]: n for n in w["nodes"]}
    xs = [n for n in nodes.values() if n["kind"] == "var" and n["label"] == "x"]
    assert len(xs) == 1 and xs[0]["value"] == x
    # forward: one step per op, in an order where inputs come first
    done = {n["id"] for n in nodes.values() if n["kind"] != "op"}
    for s in w["forward"]:
        ins = {e["src"] for e in w["edges"] if e["dst"] == s["node"]}
        assert ins <= done
        done.add(s["node"])
        assert s["value"] == nodes[s["node"]]["value"]
    assert len(w["forward"]) == sum(n["kind"] == "op" for n in nodes.values())
    # backward: from F, each node once, after every node that uses it
    steps = w["backward"]
    assert steps[0]["grad"] == 1.0 and steps[0]["node"] == steps[0]["completes"][0]
    finished = {steps[0]["node"]}
    for s in steps[1:]:
        for t in s["terms"]:
            assert t["src"] in finished  # the gradient arriving is already known
            assert t["incoming"] == nodes[t["src"]]["grad"]
            assert t["product"] == pytest.approx(t["local"] * t["incoming"], **TOL)
        assert s["total"] == pytest.approx(s["grad"], **TOL)
        finished.add(s["node"])
    x_step = next(s for s in steps if s["node"] == xs[0]["id"])
    assert len(x_step["terms"]) == 2  # x is used twice: x*y and sin(x); the paths add up
    assert sorted(t["local"] for t in x_step["terms"]) == pytest.approx(sorted([y, np.cos(x)]))


def test_expression_constants_and_unused_variables(client):
    w = client.post("/api/walkthrough/expression",
                    json={"expression": "3*x^2", "x": 2.0, "y": 5.0}).json()
    assert w["value"] == pytest.approx(12.0) and w["gradient"] == {"x": 12.0, "y": 0.0}
    consts = [n for n in w["nodes"] if n["kind"] == "const"]
    assert consts and all(n["grad"] is None for n in consts)


@pytest.mark.parametrize("body, status, words", [
    ({"expression": "x +* 2"}, 400, "column 4"),
    ({"expression": "__import__('os').system('true')"}, 400, "unexpected"),
    ({"expression": "log(x)", "x": -1.0}, 400, "log(x) is nan"),
    ({"expression": "sqrt(x)", "x": 0.0}, 400, "not finite"),
    ({"expression": "x" * 501}, 422, "expression"),
    ({"x": 1.0}, 422, "expression"),
])
def test_bad_expressions_are_refused_with_a_message(client, body, status, words):
    r = client.post("/api/walkthrough/expression", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]


def test_non_finite_numbers_are_refused(client):
    for text in ('{"expression": "x", "x": NaN}', '{"expression": "x", "y": Infinity}'):
        r = client.post("/api/walkthrough/expression", content=text,
                        headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["error"].startswith(("x", "y"))


def test_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/openapi.json").json()
    for path in ("/api/walkthrough/network", "/api/walkthrough/network/step",
                 "/api/walkthrough/network/default", "/api/walkthrough/expression"):
        assert path in schema["paths"]
    for model in ("TextNetwork", "TextNetworkStep", "NetworkWalkthrough",
                  "ExpressionWalkthrough", "BackwardStep"):
        assert model in schema["components"]["schemas"]
