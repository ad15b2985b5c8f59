"""draw_graph: the model (nodes, edges, values, gradients) against the engine, grouping of
large graphs, rendering and the advice when Graphviz is missing."""

import shutil
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule._extras import MissingExtraError
from chainrule.errors import BackwardError
from chainrule.viz import GraphvizNotFoundError, draw_graph

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")


def named(data, name, requires_grad=True):
    t = cr.tensor(np.asarray(data, dtype=np.float64), requires_grad=requires_grad)
    t.name = name
    return t


def one(g, **kw):
    found = g.find(**kw)
    assert len(found) == 1, (kw, found)
    return found[0]


def edge_pairs(g):
    return sorted((g.nodes[e.src].label, g.nodes[e.dst].label) for e in g.edges)


def test_linear_expression_nodes_edges_values_and_grads():
    rng = np.random.default_rng(1)
    xv, wv, bv = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    x, w, b = named(xv, "x", requires_grad=False), named(wv, "w"), named(bv, "b")
    y = (x * w + b).tanh().sum()
    g = draw_graph(y, group="full")

    assert g.level == "full" and g.grads == "compute"
    assert one(g, name="x").role == "input"
    assert one(g, name="w").role == "leaf" and one(g, name="b").role == "leaf"
    assert sorted(n.op for n in g.find(kind="op")) == ["add", "mul", "sum", "tanh"]
    # value -> op -> value, in the forward direction
    mul, add = one(g, op="mul"), one(g, op="add")
    assert {g.nodes[e.src].name for e in g.incoming(mul.id)} == {"x", "w"}
    [mul_out] = [g.nodes[e.dst] for e in g.outgoing(mul.id)]
    assert {g.nodes[e.src].id for e in g.incoming(add.id)} == {mul_out.id, one(g, name="b").id}
    assert len(g.edges) == 2 + 1 + 2 + 1 + 1 + 1 + 1 + 1

    # values are the arrays the forward pass computed
    np.testing.assert_array_equal(mul_out.data, xv * wv)
    out = one(g, role="output")
    assert out.data == y.item()

    # gradients equal the engine's, and drawing accumulated nothing
    assert w.grad is None and b.grad is None
    h = x * w + b
    gw, gb, gh = cr.grad((h.tanh()).sum(), [w, b, h])
    np.testing.assert_allclose(one(g, name="w").grad, gw.numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(one(g, name="b").grad, gb.numpy(), rtol=0, atol=1e-15)
    [add_out] = [g.nodes[e.dst] for e in g.outgoing(add.id)]
    np.testing.assert_allclose(add_out.grad, gh.numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(add_out.grad, 1 - np.tanh(xv * wv + bv) ** 2, rtol=1e-12)


def test_reused_value_shows_every_path_and_the_summed_gradient():
    x = named(1.5, "x")
    y = x * x + cr.sin(x)
    g = draw_graph(y, group="full")
    xn = one(g, name="x")
    paths = g.outgoing(xn.id)
    assert sorted(g.nodes[e.dst].op for e in paths) == ["mul", "mul", "sin"]
    shares = {(g.nodes[e.dst].op, e.index): float(e.grad) for e in paths}
    assert shares[("mul", 0)] == pytest.approx(1.5) and shares[("mul", 1)] == pytest.approx(1.5)
    assert shares[("sin", 0)] == pytest.approx(np.cos(1.5))
    (engine,) = cr.grad(x * x + cr.sin(x), [x])
    assert float(xn.grad) == pytest.approx(engine.item(), abs=1e-15)
    assert float(xn.grad) == pytest.approx(sum(shares.values()), abs=1e-15)
    assert float(xn.grad) == pytest.approx(2 * 1.5 + np.cos(1.5), abs=1e-15)
    # local derivatives of scalar edges: d sin(x)/dx = cos x, d(x*x)/dx_i = the other x
    sin_edge = next(e for e in paths if g.nodes[e.dst].op == "sin")
    assert sin_edge.local == pytest.approx(np.cos(1.5))
    # the dot text labels the shares on the fanned-out arrows
    assert g.source.count("grad part") == 3


def test_module_parameter_names_and_grads_after_backward_equal_the_drawing():
    model = cr.nn.Sequential(cr.nn.Linear(2, 3, generator=np.random.default_rng(0)),
                             cr.nn.Tanh(), cr.nn.Linear(3, 1, generator=np.random.default_rng(1)))
    x = cr.tensor(np.random.default_rng(2).normal(size=(4, 2)))
    t = cr.tensor(np.random.default_rng(3).normal(size=(4, 1)))
    loss = 0.5 * cr.nn.functional.mse_loss(model(x), t, reduction="sum")
    g = draw_graph(loss, group="full")
    names = {n.name for n in g.find(role="leaf")}
    assert names == {"0.weight", "0.bias", "2.weight", "2.bias"}
    loss.backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(one(g, name=name).grad, p.grad.numpy(), rtol=1e-13, atol=0)
    # the ops that use a module's parameters are framed under its name
    src = g.source
    assert 'label="0"' in src and 'label="2"' in src and "cluster_" in src
    # grouping by module: one box per Linear, named after it
    gm = draw_graph(_mlp_loss(model, x, t), group="modules")
    boxes = {n.label for n in gm.find(kind="group")}
    assert boxes == {"0", "2"}
    m0 = one(gm, label="0")
    assert {name for name, _ in m0.param_names} == {"0.weight", "0.bias"}
    assert "linear" in set(m0.ops)


def _mlp_loss(model, x, t):
    return 0.5 * cr.nn.functional.mse_loss(model(x), t, reduction="sum")


def test_attr_mode_shows_dot_grad_and_retain_grad():
    w = named([1.0, -2.0], "w")
    h = w * 3.0
    h.retain_grad()
    y = (h * h).sum()
    y.backward(retain_graph=True)
    g = draw_graph(y, grads="attr", group="full")
    assert g.grads == "attr"
    np.testing.assert_array_equal(one(g, name="w").grad, w.grad.numpy())
    h_node = [n for n in g.find(kind="value") if n.grad is not None and n.name is None]
    assert any(np.array_equal(n.grad, h.grad.numpy()) for n in h_node)


def _net_error():
    model = cr.nn.Sequential(cr.nn.Linear(1, 3), cr.nn.Tanh(), cr.nn.Linear(3, 1))
    d = model(cr.tensor([[0.5]])) - cr.tensor([[0.25]])
    return model, 0.5 * (d * d).sum()


def test_draw_after_backward_shows_the_graph_with_its_gradients():
    model, E = _net_error()
    before = draw_graph(E, group="full")  # computes the gradients, leaves the graph intact
    E.backward()
    after = draw_graph(E, group="full")
    assert after.grads == "attr"
    assert edge_pairs(after) == edge_pairs(before)  # the same structure
    for name, p in model.named_parameters():
        node = one(after, name=name)
        np.testing.assert_array_equal(node.grad, p.grad.numpy())
        np.testing.assert_allclose(node.grad, one(before, name=name).grad, rtol=1e-14)
    shapes = sorted(str(n.shape) for n in after.find(kind="value"))
    assert shapes == sorted(str(n.shape) for n in before.find(kind="value"))
    hidden = [n for n in after.find(kind="value") if n.role == "intermediate"]
    assert hidden and all(n.data is None for n in hidden)  # their arrays were freed
    assert "tanh" in after.source and "linear" in after.source
    with pytest.raises(BackwardError, match="retain_graph=True"):
        E.backward()  # a second backward still needs the freed arrays


def test_compute_grads_after_backward_says_what_to_do():
    w = named([1.0, 2.0], "w")
    y = (w * w).sum()
    y.backward()
    with pytest.raises(BackwardError) as e:
        draw_graph(y, grads="compute")
    msg = str(e.value)
    assert "freed" in msg and "grads='attr'" in msg and "retain_graph=True" in msg


def test_non_scalar_output_needs_grad_output_to_compute():
    w = named([1.0, 2.0, 3.0], "w")
    y = w * w
    assert draw_graph(y).grads == "attr"
    g = draw_graph(y, grad_output=np.array([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(one(g, name="w").grad, [2.0, 0.0, 12.0])
    with pytest.raises(ValueError, match="grads must be one of"):
        draw_graph(y, grads="yes")
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(np.ones(3))


def test_constants_and_leaf_only_graphs():
    x = named(2.0, "x")
    g = draw_graph(x * 3.0 - 1.0, group="full")
    consts = sorted(float(n.data) for n in g.find(role="const"))
    assert consts == [1.0, 3.0]
    assert all(n.grad is None for n in g.find(role="const"))
    assert float(one(g, name="x").grad) == pytest.approx(3.0)
    leaf = draw_graph(x)
    assert len(leaf.nodes) == 1 and not leaf.edges and float(one(leaf, name="x").grad) == 1.0


def _recurrent(n_steps, w):
    h = named([0.1, -0.2], "h0")
    for _ in range(n_steps):
        h = cr.tanh(h * w + 0.1)
    return h.sum()


def test_large_graph_of_5000_nodes_stays_within_the_stated_bound():
    w = named(0.9, "w")
    loss = _recurrent(720, w)  # 7 nodes a step: 3 ops, 3 values, a constant
    t0 = time.perf_counter()
    g = draw_graph(loss, max_nodes=60)
    build_s = time.perf_counter() - t0
    assert g.total >= 5000
    assert len(g.nodes) <= 60
    assert {"mul ×720", "add ×720", "tanh ×720"} <= {n.label for n in g.nodes.values()}
    assert len(g.source) < 10_000
    assert build_s < 10
    # the drawing still carries the engine's gradient of the shared weight
    (gw,) = cr.grad(_recurrent(720, w), [w])
    assert float(one(g, name="w").grad) == pytest.approx(gw.item(), rel=1e-12)
    if shutil.which("dot"):
        t0 = time.perf_counter()
        svg = g.svg()
        assert time.perf_counter() - t0 < 10 and "tanh ×720" in svg


def test_runs_of_one_op_collapse_into_one_box():
    x = named([0.3, 0.4], "x")
    y = x
    for _ in range(3000):
        y = cr.tanh(y)
    g = draw_graph(y.sum(), max_nodes=10)
    assert g.level == "chains"
    chain = one(g, kind="group")
    assert chain.label == "tanh ×3000" and chain.count == 3000
    assert len(g.nodes) == 3  # x, the chain, the sum


def test_many_modules_collapse_to_one_box_each():
    rng = np.random.default_rng(0)
    layers = []
    for _ in range(40):
        layers += [cr.nn.Linear(4, 4, generator=rng), cr.nn.Tanh()]
    model = cr.nn.Sequential(*layers)
    loss = model(cr.tensor(rng.normal(size=(3, 4)))).sum()
    g = draw_graph(loss, max_nodes=150)
    assert g.level == "modules" and len(g.nodes) <= 150
    assert {n.label for n in g.find(role="module")} == {str(2 * k) for k in range(40)}


def test_explicit_levels_and_bad_options():
    x = named(1.0, "x")
    y = cr.exp(x) * x
    sizes = [len(draw_graph(y, group=lvl).nodes) for lvl in cr.viz.LEVELS]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[1]
    with pytest.raises(ValueError, match="group must be"):
        draw_graph(y, group="tiny")
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(y, max_nodes=0)


@needs_dot
def test_render_and_save_formats(tmp_path):
    w = named([1.0, 2.0], "weights")
    g = draw_graph((w * w).sum())
    svg = g._repr_svg_()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:500]
    assert "weights" in svg and "[leaf]" in svg
    assert g.save(tmp_path / "g.svg").read_text().count("<svg") == 1
    assert (g.save(tmp_path / "g.png")).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert g.save(tmp_path / "g.dot").read_text() == g.source
    with pytest.raises(ValueError, match="format"):
        g.save(tmp_path / "g.jpeg2")


def test_missing_dot_gives_install_advice(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no `dot` on PATH
    g = draw_graph(named(1.0, "x") * 2.0)
    g.save(tmp_path / "still.dot")  # needs no Graphviz
    with pytest.raises(GraphvizNotFoundError) as e:
        g.save(tmp_path / "g.svg")
    msg = str(e.value)
    for advice in ("apt-get install graphviz", "brew install graphviz", "conda",
                   'pip install "chainrule[viz]"'):
        assert advice in msg


def test_missing_graphviz_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)
    g = draw_graph(named(1.0, "x") * 2.0)
    assert "digraph" in g.source
    with pytest.raises(MissingExtraError, match=r'chainrule\[viz\]'):
        g.svg()
