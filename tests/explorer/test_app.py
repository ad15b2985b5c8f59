"""The explorer's HTTP API through an in-process client: good input, bad input, the page."""

import math
import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the explorer needs the 'explore' extra")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx")
from fastapi.testclient import TestClient  # noqa: E402

from chainrule.explorer import app as app_module  # noqa: E402
from chainrule.explorer.app import create_app  # noqa: E402

from .test_parser import HOSTILE  # noqa: E402

BOWL = {"expression": "x^2 + 3*y^2"}
NET = {"network": {"problem": "sin", "wx": "w2_1", "wy": "b2"}}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def test_catalog(client):
    r = client.get("/api/catalog")
    assert r.status_code == 200
    cat = r.json()
    names = [p["name"] for p in cat["presets"]]
    for name in ("bowl", "elongated", "saddle", "rosenbrock", "himmelblau", "beale", "hills"):
        assert name in names
    assert [m["id"] for m in cat["methods"]] == ["gd", "momentum", "nesterov", "rmsprop", "adam"]
    assert [p["id"] for p in cat["problems"]] == ["square", "sin", "abs", "step"]
    assert len(cat["weights"]) == 10
    assert cat["limits"]["grid"] == 200


def test_surface(client):
    body = {"function": BOWL, "n": 11, "domain": {"xmin": -1, "xmax": 1, "ymin": 0, "ymax": 2},
            "gradient": True}
    r = client.post("/api/surface", json=body)
    assert r.status_code == 200
    s = r.json()
    assert s["x"][0] == -1 and s["x"][-1] == 1 and s["y"][0] == 0 and s["y"][-1] == 2
    assert len(s["z"]) == 11 and len(s["z"][0]) == 11
    assert s["z"][10][0] == pytest.approx(1 + 3 * 4)  # at (x=-1, y=2)
    assert s["gy"][10][0] == pytest.approx(12.0)
    assert s["domain"] == [-1, 1, 0, 2] and s["nonfinite"] == 0 and s["network"] is None
    # without a domain, a preset's own view box is used; without gradient, none is sent
    r = client.post("/api/surface", json={"function": {"expression": "(1 - x)^2 + 100*(y - x^2)^2"},
                                          "n": 5})
    assert r.json()["domain"] == [-2, 2, -1, 3] and r.json()["gx"] is None


def test_surface_reports_non_finite_points(client):
    r = client.post("/api/surface", json={"function": {"expression": "log(x)"}, "n": 5,
                                          "domain": {"xmin": -1, "xmax": 1, "ymin": -1, "ymax": 1}})
    assert r.status_code == 200
    assert r.json()["nonfinite"] == 15 and r.json()["z"][0][0] is None


def test_point(client):
    r = client.post("/api/point", json={"function": BOWL, "x": 1.0, "y": -2.0, "direction": 90})
    assert r.status_code == 200
    p = r.json()
    assert (p["f"], p["gx"], p["gy"]) == (13.0, 2.0, -12.0)
    assert p["directional"] == pytest.approx(-12.0)
    assert p["angle"] == pytest.approx(math.degrees(math.atan2(-12, 2)))
    assert p["fit"] is None and p["ms"] >= 0


def test_point_non_finite(client):
    r = client.post("/api/point", json={"function": {"expression": "1/x"}, "x": 0, "y": 0})
    assert r.status_code == 200
    assert r.json()["f"] is None and r.json()["finite"] is False
    assert "not finite" in r.json()["message"]


def test_network_mode(client):
    s = client.post("/api/surface", json={"function": NET, "n": 8}).json()
    a, b = s["network"]["trained"]
    assert len(s["network"]["data_x"]) == 50
    assert s["domain"][0] < a < s["domain"][1] and s["domain"][2] < b < s["domain"][3]
    assert "hidden 1" in s["network"]["wx_label"]
    p = client.post("/api/point", json={"function": NET, "x": a, "y": b}).json()
    assert len(p["fit"]["x"]) == len(p["fit"]["y"]) == 101
    moved = client.post("/api/point", json={"function": NET, "x": a + 1, "y": b}).json()
    assert moved["f"] > p["f"]
    assert moved["fit"]["y"] != p["fit"]["y"]


def test_taylor(client):
    body = {"function": BOWL, "x": 1.0, "y": 1.0, "eta": 0.1, "n": 10}
    t = client.post("/api/taylor", json=body).json()
    c = t["curvature"]
    assert c["lr_bound"] == pytest.approx(1 / 3) and c["eigenvalues"] == pytest.approx([2, 6])
    assert t["eta"][-1] == pytest.approx(2.5 / 3)  # automatic range: 2.5 × 2/λ_max
    assert t["predicted"][0] == pytest.approx(-t["eta"][0] * 40)
    assert t["at_eta"]["predicted"] == pytest.approx(-4.0)
    assert t["at_eta"]["actual"] == pytest.approx(-4.0 + 0.5 * 0.01 * 224)
    log = client.post("/api/taylor", json=dict(body, scale="log", eta_max=1.0)).json()
    assert log["eta"][0] == pytest.approx(1e-4) and log["eta"][-1] == pytest.approx(1.0)


def test_descent(client):
    body = {"function": BOWL, "x": 1.6, "y": 1.2, "lr": 0.1, "steps": 50,
            "methods": ["gd", "momentum", "nesterov", "rmsprop", "adam"]}
    d = client.post("/api/descent", json=body).json()
    assert [p["method"] for p in d["paths"]] == body["methods"]
    for p in d["paths"]:
        assert p["status"] == "ok" and len(p["x"]) == 51
        assert p["E"][-1] < p["E"][0]
    assert d["message"] is None
    assert d["curvature"]["lr_bound"] == pytest.approx(1 / 3)


def test_descent_divergence_is_explained(client):
    body = {"function": BOWL, "x": 1.6, "y": 1.2, "lr": 0.5, "steps": 500, "methods": ["gd"]}
    d = client.post("/api/descent", json=body).json()
    assert d["paths"][0]["status"] == "diverged"
    msg = d["message"]
    assert "diverged at step" in msg and "2/λ_max = 0.3333" in msg
    assert "η = 0.5 is above the bound" in msg and "|1 − ηλ_max| = 2 > 1" in msg


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_expressions_get_4xx_with_a_message(client, text):
    r = client.post("/api/point", json={"function": {"expression": text}, "x": 0, "y": 0})
    assert 400 <= r.status_code < 500
    assert r.json()["error"]


def test_parse_error_carries_the_column(client):
    r = client.post("/api/surface", json={"function": {"expression": "(x + y))"}})
    assert r.status_code == 400
    assert r.json() == {"error": "unexpected ')' at column 8", "column": 8}


BAD_BODIES = [
    {},
    {"function": {}, "x": 0, "y": 0},
    {"function": {"expression": "x", "network": NET["network"]}, "x": 0, "y": 0},
    {"function": BOWL, "x": "one", "y": 0},
    {"function": BOWL, "x": 1e300, "y": 0},
    {"function": BOWL, "x": 0},
    {"function": BOWL, "x": 0, "y": 0, "direction": 1e9},
    {"function": BOWL, "x": 0, "y": 0, "extra": 1},
    {"function": {"expression": 5}, "x": 0, "y": 0},
    {"function": {"network": {"problem": "cubic"}}, "x": 0, "y": 0},
    {"function": {"network": {"wx": "b2", "wy": "b2"}}, "x": 0, "y": 0},
    {"function": {"network": {"wx": "w7"}}, "x": 0, "y": 0},
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_point_requests_are_4xx(client, body):
    r = client.post("/api/point", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]


@pytest.mark.parametrize("path, body", [
    ("/api/surface", {"function": BOWL, "n": 10_000}),
    ("/api/surface", {"function": BOWL, "n": 1}),
    ("/api/surface", {"function": BOWL, "domain": {"xmin": 1, "xmax": 0, "ymin": 0, "ymax": 1}}),
    ("/api/descent", {"function": BOWL, "x": 0, "y": 0, "steps": 10**6}),
    ("/api/descent", {"function": BOWL, "x": 0, "y": 0, "lr": 0}),
    ("/api/descent", {"function": BOWL, "x": 0, "y": 0, "lr": -1}),
    ("/api/descent", {"function": BOWL, "x": 0, "y": 0, "methods": []}),
    ("/api/descent", {"function": BOWL, "x": 0, "y": 0, "methods": ["newton"]}),
    ("/api/taylor", {"function": BOWL, "x": 0, "y": 0, "eta": 0}),
    ("/api/taylor", {"function": BOWL, "x": 0, "y": 0, "n": 100_000}),
])  # fmt: skip
def test_limits_are_enforced(client, path, body):
    r = client.post(path, json=body)
    assert r.status_code == 422 and r.json()["error"]


def test_malformed_json_and_wrong_method(client):
    headers = {"content-type": "application/json"}
    r = client.post("/api/point", content=b"{not json", headers=headers)
    assert r.status_code == 422
    r = client.post("/api/point", content=b"\x00\xff", headers=headers)
    assert 400 <= r.status_code < 500
    assert client.get("/api/point").status_code == 405
    assert client.get("/api/nothing").status_code == 404


def test_server_keeps_serving_after_bad_input(client):
    for text in HOSTILE[:5]:
        client.post("/api/point", json={"function": {"expression": text}, "x": 0, "y": 0})
    r = client.post("/api/point", json={"function": BOWL, "x": 1, "y": 1})
    assert r.status_code == 200 and r.json()["f"] == 4.0


def test_openapi_documents_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert set(paths) >= {"/api/catalog", "/api/surface", "/api/point", "/api/taylor",
                          "/api/descent"}
    for path in ("/api/surface", "/api/point", "/api/taylor", "/api/descent"):
        op = paths[path]["post"]
        assert op["summary"] and "requestBody" in op and "200" in op["responses"]
    assert "SurfaceResponse" in spec["components"]["schemas"]


def test_page_and_assets_are_local(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert '<script src="/static/explorer.js" defer></script>' in html
    assert "walkthrough.js" not in html or (app_module.STATIC / "walkthrough.js").is_file()
    srcs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert srcs and all(s.startswith("/") or s.startswith("data:") for s in srcs), srcs
    for src in srcs:
        if src.startswith("/"):
            assert client.get(src).status_code == 200, src
    js = client.get("/vendor/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert "javascript" in js.headers["content-type"]
    for name in ("tabs.js", "explorer.js", "explorer.css", "index.html"):
        text = (Path(app_module.STATIC) / name).read_text()
        text = text.replace('"http://www.w3.org/2000/svg"', "")  # a namespace, not a request
        assert "http://" not in text and "https://" not in text, name


def test_optional_routers_and_tab_scripts_are_listed_in_one_place(client):
    assert "chainrule.explorer.walkthrough:router" in app_module.OPTIONAL_ROUTERS
    assert app_module.TAB_SCRIPTS[0] == "explorer.js"
    html = app_module._index_html()
    for name in app_module.TAB_SCRIPTS:
        present = (app_module.STATIC / name).is_file()
        assert (f"/static/{name}" in html) == present


def test_trusted_hosts():
    with TestClient(create_app(allowed_hosts=["127.0.0.1", "localhost"]),
                    base_url="http://127.0.0.1") as c:
        assert c.get("/api/catalog").status_code == 200
        assert c.get("/api/catalog", headers={"host": "evil.example"}).status_code == 400


@pytest.mark.parametrize("path, body, words", [
    ("/api/descent", {"function": BOWL, "x": 0, "y": 0, "steps": 0},
     "steps must be at least 1 (got 0)."),
    ("/api/descent", {"function": BOWL, "x": 0, "y": 0, "steps": 5000},
     "steps must be at most 1000 (got 5000)."),
    ("/api/point", {"function": BOWL, "x": "abc", "y": 0},
     "x must be a finite number (got 'abc')."),
    ("/api/descent", {"function": BOWL, "x": 0, "y": 0, "lr": 0}, "η (lr) must be at least"),
    ("/api/surface", {"function": {}}, "function: give exactly one of 'expression' or 'network'"),
    ("/api/walkthrough/network", {"x": [1], "target": [1], "W1": [[1, "a"]], "b1": [0],
                                  "W2": [[1]], "b2": [0]},
     "W1, row 1, column 2 must be a finite number (got 'a')"),
])  # fmt: skip
def test_validation_messages_are_in_words(client, path, body, words):
    r = client.post(path, json=body)
    assert r.status_code == 422
    msg = r.json()["error"]
    assert words in msg and "Input should" not in msg and "body." not in msg, msg
