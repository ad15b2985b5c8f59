"""The text's network on one data point: forward values, backward steps with each edge's
local derivative, incoming gradient and product, finite differences, a descent step."""

from __future__ import annotations

import numpy as np

from ... import autograd, ops
from ...creation import tensor
from ...errors import UserError
from .models import (
    LIMIT,
    BackwardStep,
    ForwardStep,
    NetworkWalkthrough,
    StepResponse,
    Term,
    TextNetwork,
    TextNetworkStep,
    WEdge,
    WeightInfo,
    WNode,
    _n,
    _sub,
)


def default_network(inputs=2, hidden=3, outputs=2, seed=0) -> TextNetwork:
    """Small seeded weights (uniform in ±0.8, two decimals) and a data point."""
    rng = np.random.default_rng(seed)

    def r(*shape, scale=0.8):
        return np.round(rng.uniform(-scale, scale, size=shape), 2).tolist()

    return TextNetwork(x=r(inputs, scale=1.0), target=r(outputs, scale=1.0),
                       W1=r(hidden, inputs), b1=r(hidden), W2=r(outputs, hidden), b2=r(outputs))


def _arrays(spec):
    return {k: np.array(getattr(spec, k), dtype=np.float64)
            for k in ("x", "target", "W1", "b1", "W2", "b2")}


def network_error(a) -> float:
    """E of the network on its point, by chainrule's forward pass (nothing recorded)."""
    with autograd.no_grad():
        z = ops.tanh(tensor(a["W1"]) @ tensor(a["x"]) + tensor(a["b1"]))
        y = tensor(a["W2"]) @ z + tensor(a["b2"])
        return float((0.5 * ((y - a["target"]) ** 2).sum()).item())


def _one_hot(n, i):
    e = np.zeros(n)
    e[i] = 1.0
    return e


def _engine_network(a):
    """Forward values, ∂E/∂· of everything, and each layer's local derivatives."""
    D, M, K = a["x"].size, a["b1"].size, a["b2"].size
    with autograd.enable_grad():
        x = tensor(a["x"].copy(), requires_grad=True)
        W1, b1, W2, b2 = (tensor(a[k].copy(), requires_grad=True)
                          for k in ("W1", "b1", "W2", "b2"))
        h = W1 @ x + b1
        z = ops.tanh(h)
        y = W2 @ z + b2
        E = 0.5 * ((y - a["target"]) ** 2).sum()
        names = ("y", "z", "h", "x", "W1", "b1", "W2", "b2")
        grads = autograd.grad(E, [y, z, h, x, W1, b1, W2, b2], retain_graph=True)
        g = {k: v.numpy() for k, v in zip(names, grads)}
        # local derivatives: one row of a layer's Jacobian per backward pass from a unit
        loc = {"y_z": np.zeros((K, M)), "y_W2": np.zeros((K, M)), "y_b2": np.zeros(K),
               "z_h": np.zeros(M), "h_W1": np.zeros((M, D)), "h_b1": np.zeros(M),
               "h_x": np.zeros((M, D))}  # fmt: skip
        for k in range(K):
            gz, gW2, gb2 = autograd.grad(y, [z, W2, b2], grad_outputs=_one_hot(K, k),
                                         retain_graph=True)
            loc["y_z"][k], loc["y_W2"][k], loc["y_b2"][k] = gz.data, gW2.data[k], gb2.data[k]
        for j in range(M):
            (gh,) = autograd.grad(z, [h], grad_outputs=_one_hot(M, j), retain_graph=True)
            loc["z_h"][j] = gh.data[j]
            gW1, gb1, gx = autograd.grad(h, [W1, b1, x], grad_outputs=_one_hot(M, j),
                                         retain_graph=True)
            loc["h_W1"][j], loc["h_b1"][j], loc["h_x"][j] = gW1.data[j], gb1.data[j], gx.data
        loc["E_y"] = g["y"]  # E consumes y directly: its local derivative is ∂E/∂y
        vals = {"h": h.numpy(), "z": z.numpy(), "y": y.numpy(), "E": E.item()}
    return vals, g, loc


def _finite_differences(a, eps):
    fd = {}
    for name in ("W1", "b1", "W2", "b2"):
        est = np.zeros_like(a[name])
        for idx in np.ndindex(a[name].shape):
            plus = dict(a, **{name: a[name].copy()})
            minus = dict(a, **{name: a[name].copy()})
            plus[name][idx] += eps
            minus[name][idx] -= eps
            est[idx] = (network_error(plus) - network_error(minus)) / (2 * eps)
        fd[name] = est
    return fd


def network_walkthrough(spec: TextNetwork) -> NetworkWalkthrough:
    """The whole walkthrough of the text's network on ``spec``'s data point."""
    a = _arrays(spec)
    vals, g, loc = _engine_network(a)
    fd = _finite_differences(a, spec.fd_step)
    x, t, W1, b1, W2, b2 = (a[k] for k in ("x", "target", "W1", "b1", "W2", "b2"))
    h, z, y, E = vals["h"], vals["z"], vals["y"], vals["E"]
    D, M, K = x.size, h.size, y.size
    for name, arr in (("E", np.array(E)), *g.items()):
        if not np.all(np.isfinite(arr)):
            raise UserError(f"{name} is not finite for these numbers; use smaller weights")

    I, J, Kr = range(1, D + 1), range(1, M + 1), range(1, K + 1)
    nodes = [WNode(id=f"x{i}", label="x" + _sub(i), kind="input", layer=0, order=i - 1,
                   value=x[i - 1], grad=g["x"][i - 1]) for i in I]
    nodes.append(WNode(id="x0", label="1", kind="bias", layer=0, order=D, value=1.0, grad=None,
                       note="bias input x₀ = 1"))
    nodes += [WNode(id=f"h{j}", label="h" + _sub(j), kind="hidden_in", layer=1, order=j - 1,
                    value=h[j - 1], grad=g["h"][j - 1]) for j in J]
    nodes += [WNode(id=f"z{j}", label="z" + _sub(j), kind="hidden_out", layer=2, order=j - 1,
                    value=z[j - 1], grad=g["z"][j - 1]) for j in J]
    nodes.append(WNode(id="z0", label="1", kind="bias", layer=2, order=M, value=1.0, grad=None,
                       note="bias unit z₀ = 1"))
    nodes += [WNode(id=f"y{k}", label="y" + _sub(k), kind="output", layer=3, order=k - 1,
                    value=y[k - 1], grad=g["y"][k - 1], note=f"ŷ{_sub(k)} = {t[k - 1]:.4g}")
              for k in Kr]
    nodes.append(WNode(id="E", label="E", kind="error", layer=4, order=0, value=E, grad=1.0))

    weights, edges = [], []
    for j in J:
        for i in [*I, 0]:
            wid = f"W1_{j}_{i}" if i else f"b1_{j}"
            label = f"w⁽¹⁾{_sub(j)}{_sub(i)}" if i else f"b⁽¹⁾{_sub(j)}"
            eid = f"x{i}-h{j}"
            edges.append(WEdge(id=eid, src=f"x{i}", dst=f"h{j}", weight=wid, label=label))
            value = W1[j - 1, i - 1] if i else b1[j - 1]
            grad = g["W1"][j - 1, i - 1] if i else g["b1"][j - 1]
            est = fd["W1"][j - 1, i - 1] if i else fd["b1"][j - 1]
            formula = f"δ{_sub(j)} x{_sub(i)}" if i else f"δ{_sub(j)}"
            weights.append(WeightInfo(id=wid, label=label, layer=1, row=j, col=i, edge=eid,
                                      value=value, grad=grad, fd=est, formula=formula))
    edges += [WEdge(id=f"h{j}-z{j}", src=f"h{j}", dst=f"z{j}", label="tanh") for j in J]
    for k in Kr:
        for j in [*J, 0]:
            wid = f"W2_{k}_{j}" if j else f"b2_{k}"
            label = f"w⁽²⁾{_sub(k)}{_sub(j)}" if j else f"b⁽²⁾{_sub(k)}"
            eid = f"z{j}-y{k}"
            edges.append(WEdge(id=eid, src=f"z{j}", dst=f"y{k}", weight=wid, label=label))
            value = W2[k - 1, j - 1] if j else b2[k - 1]
            grad = g["W2"][k - 1, j - 1] if j else g["b2"][k - 1]
            est = fd["W2"][k - 1, j - 1] if j else fd["b2"][k - 1]
            formula = f"δ{_sub(k)} z{_sub(j)}" if j else f"δ{_sub(k)}"
            weights.append(WeightInfo(id=wid, label=label, layer=2, row=k, col=j, edge=eid,
                                      value=value, grad=grad, fd=est, formula=formula))
    edges += [WEdge(id=f"y{k}-E", src=f"y{k}", dst="E") for k in Kr]

    forward = []
    for j in J:
        terms = " + ".join(f"{_n(W1[j - 1, i - 1])}·{_n(x[i - 1])}" for i in I)
        forward.append(ForwardStep(
            node=f"h{j}", title=f"hidden unit {j}: weighted sum",
            formula=f"h{_sub(j)} = Σᵢ w⁽¹⁾{_sub(j)}ᵢ xᵢ + b⁽¹⁾{_sub(j)}",
            expansion=f"{terms} + {_n(b1[j - 1])} = {h[j - 1]:.4g}", value=h[j - 1]))
    for j in J:
        forward.append(ForwardStep(
            node=f"z{j}", title=f"hidden unit {j}: activation",
            formula=f"z{_sub(j)} = tanh(h{_sub(j)})",
            expansion=f"tanh({h[j - 1]:.4g}) = {z[j - 1]:.4g}", value=z[j - 1]))
    for k in Kr:
        terms = " + ".join(f"{_n(W2[k - 1, j - 1])}·{_n(z[j - 1])}" for j in J)
        forward.append(ForwardStep(
            node=f"y{k}", title=f"output {k}",
            formula=f"y{_sub(k)} = Σⱼ w⁽²⁾{_sub(k)}ⱼ zⱼ + b⁽²⁾{_sub(k)}",
            expansion=f"{terms} + {_n(b2[k - 1])} = {y[k - 1]:.4g}", value=y[k - 1]))
    squares = " + ".join(f"({_n(y[k - 1])} − {_n(t[k - 1])})²" for k in Kr)
    forward.append(ForwardStep(node="E", title="the error", formula="E = ½ Σₖ (yₖ − ŷₖ)²",
                               expansion=f"½ [{squares}] = {E:.4g}", value=E))

    backward = [BackwardStep(title="start at the error", formula="∂E/∂E = 1", node="E",
                             completes=["E"], terms=[], total=1.0, grad=1.0)]
    for k in Kr:
        d = g["y"][k - 1]
        backward.append(BackwardStep(
            title=f"output {k}: δ{_sub(k)}", formula=f"δ{_sub(k)} = ∂E/∂y{_sub(k)} = "
            f"y{_sub(k)} − ŷ{_sub(k)}", node=f"y{k}", completes=[f"y{k}"],
            terms=[Term(edge=f"y{k}-E", src="E", dst=f"y{k}", dst_label="y" + _sub(k),
                        local=loc["E_y"][k - 1], local_formula=f"∂E/∂y{_sub(k)} = "
                        f"y{_sub(k)} − ŷ{_sub(k)}", incoming=1.0, product=1.0 * d)],
            total=d, grad=d))
    layer2 = [w for w in weights if w.layer == 2]
    backward.append(BackwardStep(
        title="second-layer weights", formula="∂E/∂w⁽²⁾ₖⱼ = δₖ zⱼ   (∂E/∂b⁽²⁾ₖ = δₖ)",
        node=None, completes=[w.id for w in layer2], total=None, grad=None,
        terms=[_weight_term(w, f"y{w.row}", "z" + _sub(w.col) if w.col else "1",
                            loc["y_W2"][w.row - 1, w.col - 1] if w.col else
                            loc["y_b2"][w.row - 1], g["y"][w.row - 1]) for w in layer2]))
    for j in J:
        terms = [Term(edge=f"z{j}-y{k}", src=f"y{k}", dst=f"z{j}", dst_label="z" + _sub(j),
                      local=loc["y_z"][k - 1, j - 1],
                      local_formula=f"∂y{_sub(k)}/∂z{_sub(j)} = w⁽²⁾{_sub(k)}{_sub(j)}",
                      incoming=g["y"][k - 1], product=loc["y_z"][k - 1, j - 1] * g["y"][k - 1])
                 for k in Kr]
        backward.append(BackwardStep(
            title=f"hidden unit {j}: the paths from every output meet at z{_sub(j)}",
            formula=f"∂E/∂z{_sub(j)} = Σₖ w⁽²⁾ₖ{_sub(j)} δₖ", node=f"z{j}",
            completes=[f"z{j}"], terms=terms, total=sum(tm.product for tm in terms),
            grad=g["z"][j - 1]))
    for j in J:
        term = Term(edge=f"h{j}-z{j}", src=f"z{j}", dst=f"h{j}", dst_label="h" + _sub(j),
                    local=loc["z_h"][j - 1],
                    local_formula=f"∂z{_sub(j)}/∂h{_sub(j)} = 1 − z{_sub(j)}²",
                    incoming=g["z"][j - 1], product=loc["z_h"][j - 1] * g["z"][j - 1])
        backward.append(BackwardStep(
            title=f"hidden unit {j}: δ{_sub(j)}",
            formula=f"δ{_sub(j)} = (1 − z{_sub(j)}²) Σₖ w⁽²⁾ₖ{_sub(j)} δₖ", node=f"h{j}",
            completes=[f"h{j}"], terms=[term], total=term.product, grad=g["h"][j - 1]))
    layer1 = [w for w in weights if w.layer == 1]
    backward.append(BackwardStep(
        title="first-layer weights", formula="∂E/∂w⁽¹⁾ⱼᵢ = δⱼ xᵢ   (∂E/∂b⁽¹⁾ⱼ = δⱼ)",
        node=None, completes=[w.id for w in layer1], total=None, grad=None,
        terms=[_weight_term(w, f"h{w.row}", "x" + _sub(w.col) if w.col else "1",
                            loc["h_W1"][w.row - 1, w.col - 1] if w.col else
                            loc["h_b1"][w.row - 1], g["h"][w.row - 1]) for w in layer1]))
    for i in I:
        terms = [Term(edge=f"x{i}-h{j}", src=f"h{j}", dst=f"x{i}", dst_label="x" + _sub(i),
                      local=loc["h_x"][j - 1, i - 1],
                      local_formula=f"∂h{_sub(j)}/∂x{_sub(i)} = w⁽¹⁾{_sub(j)}{_sub(i)}",
                      incoming=g["h"][j - 1], product=loc["h_x"][j - 1, i - 1] * g["h"][j - 1])
                 for j in J]
        backward.append(BackwardStep(
            title=f"input {i}", formula=f"∂E/∂x{_sub(i)} = Σⱼ w⁽¹⁾ⱼ{_sub(i)} δⱼ",
            node=f"x{i}", completes=[f"x{i}"], terms=terms,
            total=sum(tm.product for tm in terms), grad=g["x"][i - 1]))

    return NetworkWalkthrough(sizes={"inputs": D, "hidden": M, "outputs": K}, E=E, nodes=nodes,
                              edges=edges, forward=forward, backward=backward,
                              weights=weights, fd_step=spec.fd_step)


def _weight_term(w, unit, source_label, local, incoming):
    what = "∂y" if w.layer == 2 else "∂h"
    return Term(edge=w.edge, src=unit, dst=w.id, dst_label=w.label, local=local,
                local_formula=f"{what}{_sub(w.row)}/∂{w.label} = {source_label}",
                incoming=incoming, product=local * incoming)


def gradient_step(req: TextNetworkStep) -> StepResponse:
    """One step ``w ← w − η ∂E/∂w`` with the gradient from chainrule's backward."""
    a = _arrays(req)
    _, g, _ = _engine_network(a)
    before = network_error(a)
    new = dict(a, **{k: a[k] - req.eta * g[k] for k in ("W1", "b1", "W2", "b2")})
    after = network_error(new)
    sq = sum(float(np.sum(g[k] ** 2)) for k in ("W1", "b1", "W2", "b2"))
    moved = {k: new[k].tolist() for k in ("W1", "b1", "W2", "b2")}
    if not np.isfinite(after) or any(np.max(np.abs(new[k])) > LIMIT for k in moved):
        raise UserError(f"the step with η = {req.eta:g} moves a weight beyond ±{LIMIT:g}; "
                        "choose a smaller η")
    spec = TextNetwork(x=req.x, target=req.target, fd_step=req.fd_step, **moved)
    return StepResponse(eta=req.eta, E_before=before, E_after=after,
                        predicted_change=-req.eta * sq, grad_norm=sq**0.5, network=spec)
