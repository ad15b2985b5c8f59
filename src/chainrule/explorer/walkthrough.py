"""The back-propagation walkthrough tab: the text's network, and any expression, step by step.

The text's network on one data point (Bishop §5.3): inputs ``x_i``, hidden pre-activations
``h_j = Σ_i w_ji x_i + b_j``, ``z_j = tanh(h_j)``, outputs ``y_k = Σ_j w_kj z_j + b_k``
and ``E = ½ Σ_k (y_k − ŷ_k)²``. Every number sent comes from chainrule: the forward
values, ``∂E/∂v`` of every value and weight (one ``cr.grad``), and the local derivative on
every edge (a row of each layer's Jacobian, one ``cr.grad`` with a one-hot seed per unit).
Each backward step lists, per edge, the local derivative, the incoming gradient and their
product; the products meeting at a node add up to its gradient (eqs. 5.9–5.12)::

    δ_k = y_k − ŷ_k          ∂E/∂w_kj = δ_k z_j
    δ_j = (1 − z_j²) Σ_k w_kj δ_k      ∂E/∂w_ji = δ_j x_i

Beside each weight's gradient is the central difference ``(E(w+Δw) − E(w−Δw)) / 2Δw``,
computed by chainrule's forward pass. For an expression typed by the user the explorer's
safe parser builds the graph (never ``eval``) and :func:`chainrule.viz.trace` supplies the
values, gradients, local derivatives and per-edge products.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import autograd, ops
from ..creation import tensor
from ..errors import UserError
from ..viz.model import trace
from .app import COMPUTE_LOCK
from .parser import MAX_LENGTH, compile_expression
from .schemas import ErrorResponse

MAX_INPUTS, MAX_HIDDEN, MAX_OUTPUTS = 4, 6, 4
LIMIT = 100.0  # largest |number| accepted for inputs, targets and weights
Num = Annotated[float, Field(ge=-LIMIT, le=LIMIT, allow_inf_nan=False)]
_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")


def _sub(n) -> str:
    return str(n).translate(_SUB)


def _n(v: float) -> str:
    """A number for formulas: 4 significant digits, negatives in parentheses."""
    s = f"{float(v):.4g}"
    return f"({s})" if s.startswith("-") else s


# ------------------------------------------------------------------------- requests
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextNetwork(Strict):
    """The network and its data point: ``W1`` is M×D (row j holds w_ji), ``W2`` is K×M."""

    x: list[Num] = Field(min_length=1, max_length=MAX_INPUTS, description="inputs x_i")
    target: list[Num] = Field(min_length=1, max_length=MAX_OUTPUTS, description="targets ŷ_k")
    W1: list[list[Num]] = Field(min_length=1, max_length=MAX_HIDDEN,
                                description="first-layer weights w_ji, one row per hidden unit")
    b1: list[Num] = Field(description="first-layer biases b_j")
    W2: list[list[Num]] = Field(description="second-layer weights w_kj, one row per output")
    b2: list[Num] = Field(description="second-layer biases b_k")
    fd_step: float = Field(1e-5, ge=1e-9, le=0.1, allow_inf_nan=False,
                           description="Δw of the finite-difference estimates")

    @model_validator(mode="after")
    def _shapes(self):
        D, M, K = len(self.x), len(self.W1), len(self.target)
        bad = [f"W1 row {j + 1} has {len(r)} entries but there are {D} inputs"
               for j, r in enumerate(self.W1) if len(r) != D]
        if len(self.b1) != M:
            bad.append(f"b1 has {len(self.b1)} entries but W1 has {M} rows (hidden units)")
        if len(self.W2) != K:
            bad.append(f"W2 has {len(self.W2)} rows but there are {K} targets (outputs)")
        bad += [f"W2 row {k + 1} has {len(r)} entries but there are {M} hidden units"
                for k, r in enumerate(self.W2) if len(r) != M]
        if len(self.b2) != K:
            bad.append(f"b2 has {len(self.b2)} entries but there are {K} targets (outputs)")
        if bad:
            raise ValueError("; ".join(bad))
        return self


class TextNetworkStep(TextNetwork):
    eta: float = Field(0.1, gt=0, le=10, allow_inf_nan=False, description="learning rate η")


class ExpressionRequest(Strict):
    expression: str = Field(max_length=MAX_LENGTH, examples=["x*y + sin(x)"])
    x: Num = 0.5
    y: Num = -1.0


# ------------------------------------------------------------------------ responses
class WNode(BaseModel):
    id: str
    label: str
    kind: str = Field(description="input, bias, hidden_in, hidden_out, output, error; "
                      "or var, const, op for expressions")
    layer: int
    order: int
    value: float | None
    grad: float | None = Field(description="∂E/∂(this value), from chainrule's backward")
    note: str | None = None


class WEdge(BaseModel):
    id: str
    src: str
    dst: str
    weight: str | None = Field(None, description="id of the weight on this edge")
    label: str = ""


class ForwardStep(BaseModel):
    node: str
    title: str
    formula: str
    expansion: str
    value: float


class Term(BaseModel):
    """One edge of a backward step: the gradient ``incoming`` at ``src`` (the node nearer
    the output) times the local derivative ∂src/∂dst gives this edge's ``product``."""

    edge: str
    src: str
    dst: str
    dst_label: str
    local: float
    local_formula: str
    incoming: float
    product: float


class BackwardStep(BaseModel):
    title: str
    formula: str
    node: str | None = Field(description="the node whose gradient this step completes")
    completes: list[str] = Field(description="ids of nodes and weights whose gradient is "
                                 "known after this step")
    terms: list[Term]
    total: float | None = Field(description="sum of the products (None for weight steps)")
    grad: float | None = Field(description="the node's gradient from chainrule's backward")


class WeightInfo(BaseModel):
    id: str
    label: str
    layer: int
    row: int
    col: int = Field(description="input index (0 for the bias)")
    edge: str
    value: float
    grad: float
    fd: float = Field(description="(E(w+Δw) − E(w−Δw)) / 2Δw")
    formula: str


class NetworkWalkthrough(BaseModel):
    sizes: dict[str, int]
    E: float
    nodes: list[WNode]
    edges: list[WEdge]
    forward: list[ForwardStep]
    backward: list[BackwardStep]
    weights: list[WeightInfo]
    fd_step: float


class StepResponse(BaseModel):
    eta: float
    E_before: float
    E_after: float
    predicted_change: float = Field(description="−η ‖∇E‖², the first-order (Taylor) change")
    grad_norm: float
    network: TextNetwork = Field(description="the network after w ← w − η ∂E/∂w")


class ExpressionWalkthrough(BaseModel):
    expression: str
    x: float
    y: float
    value: float
    gradient: dict[str, float]
    nodes: list[WNode]
    edges: list[WEdge]
    forward: list[ForwardStep]
    backward: list[BackwardStep]


# -------------------------------------------------------------------- the network
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


def network_walkthrough(spec: TextNetwork) -> dict:
    """The whole walkthrough of the text's network on ``spec``'s data point."""
    a = _arrays(spec)
    with COMPUTE_LOCK:
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


def gradient_step(req: TextNetworkStep) -> dict:
    """One step ``w ← w − η ∂E/∂w`` with the gradient from chainrule's backward."""
    a = _arrays(req)
    with COMPUTE_LOCK:
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


# ---------------------------------------------------------------------- expressions
_SYMBOL = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "pow": "^", "neg": "−"}
_LOCAL = {
    "add": ("1", "1"), "sub": ("1", "−1"), "mul": ("b", "a"), "div": ("1/b", "−a/b²"),
    "pow": ("b·a^(b−1)", "a^b·ln a"), "neg": ("−1",), "exp": ("exp a",), "log": ("1/a",),
    "sin": ("cos a",), "cos": ("−sin a",), "tan": ("1 + tan² a",), "sqrt": ("1/(2√a)",),
    "abs": ("sign a",), "tanh": ("1 − tanh² a",),
}  # fmt: skip


def _text(op, args):
    if op in ("add", "sub", "mul", "div", "pow"):
        return f"{args[0]} {_SYMBOL[op]} {args[1]}"
    if op == "neg":
        return f"−{args[0]}"
    return f"{op}({', '.join(args)})"


def expression_walkthrough(req: ExpressionRequest) -> dict:
    """Graph, forward values and backward steps of ``F(x, y)`` at one point."""
    with COMPUTE_LOCK:
        f = compile_expression(req.expression)
        with autograd.enable_grad(), np.errstate(all="ignore"):
            x = tensor(np.float64(req.x), requires_grad=True)
            y = tensor(np.float64(req.y), requires_grad=True)
            x.name, y.name = "x", "y"
            out = f(x, y)
            model = trace(out, grads="compute")
    at = f"x = {req.x:g}, y = {req.y:g}"
    nodes_m, producer = model.nodes, {v: o for o, v in model.op_output.items()}

    def box(vid):  # a value's box: its producing op, or the value itself (x, y, constants)
        return producer.get(vid, vid)

    text, layer, nodes = {}, {}, {}
    for nid, n in nodes_m.items():
        if n.kind == "value" and nid in producer:
            continue
        if n.kind == "value":
            text[nid] = n.name if n.role != "const" else _n(n.data)
            layer[nid] = 0
            kind, label, value, grad = ("var", n.name, n.data, n.grad) if n.role != "const" \
                else ("const", text[nid], n.data, None)
        else:
            ins = [box(v) for v in model.op_inputs[nid]]
            args = [f"({text[i]})" if nodes_m[i].op in _SYMBOL and nodes_m[i].op != "neg"
                    else text[i] for i in ins]
            text[nid] = _text(n.op, args)
            layer[nid] = 1 + max(layer[i] for i in ins)
            v = nodes_m[model.op_output[nid]]
            kind, label, value, grad = "op", _SYMBOL.get(n.op, n.op), v.data, v.grad
            if not np.isfinite(value):
                raise UserError(f"{text[nid]} is {float(value)} at {at}; pick a point where "
                                "the expression is defined")
        if grad is not None and not np.isfinite(grad):
            raise UserError(f"the gradient with respect to {text[nid]} is not finite at {at} "
                            "(e.g. sqrt or abs at 0); pick another point")
        nodes[nid] = {"id": nid, "label": label, "kind": kind, "layer": layer[nid],
                      "value": float(value), "grad": None if grad is None else float(grad)}
    _order_layers(nodes, model, box)

    edges, uses = [], {}
    for k, e in enumerate(model.edges):
        if e.index is None:
            continue
        src = box(e.src)
        edges.append(WEdge(id=f"e{k}", src=src, dst=e.dst))
        if e.grad is not None:
            uses.setdefault(src, []).append((f"e{k}", e))

    forward = []
    for nid, n in nodes.items():
        if n["kind"] != "op":
            continue
        op = nodes_m[nid].op
        ins = [box(v) for v in model.op_inputs[nid]]
        forward.append(ForwardStep(
            node=nid, title=op,
            formula=text[nid] if len(text[nid]) <= 80 else text[nid][:77] + "...",
            expansion=f"{_text(op, [_n(nodes[i]['value']) for i in ins])} = {n['value']:.4g}",
            value=n["value"]))

    root = box(model.root)
    backward = [BackwardStep(title="start at F", formula="∂F/∂F = 1", node=root,
                             completes=[root], terms=[], total=1.0, grad=1.0)]
    for nid in reversed(list(nodes)):
        n = nodes[nid]
        if nid == root or n["kind"] == "const" or nid not in uses:
            continue
        terms = []
        for eid, e in uses[nid]:
            op = nodes_m[e.dst].op
            forms = _LOCAL.get(op)
            form = forms[e.index] if forms and e.index < len(forms) else "∂out/∂in"
            side = "ab"[e.index] if e.index < 2 else str(e.index)
            incoming = nodes[e.dst]["grad"]
            terms.append(Term(
                edge=eid, src=e.dst, dst=nid, dst_label=text[nid][:40],
                local=e.local, local_formula=f"∂({_text(op, ['a', 'b'][:len(forms or 'a')])})"
                f"/∂{side} = {form}", incoming=incoming, product=float(e.grad)))
        many = len(terms) > 1
        backward.append(BackwardStep(
            title=f"∂F/∂({text[nid][:60]})" + (" — its uses meet here" if many else ""),
            formula="sum over uses of (incoming gradient × local derivative)" if many
            else "incoming gradient × local derivative",
            node=nid, completes=[nid], terms=terms, total=sum(t.product for t in terms),
            grad=n["grad"]))

    grads = {name: 0.0 for name in ("x", "y")}
    for n in nodes.values():
        if n["kind"] == "var":
            grads[n["label"]] = n["grad"]
    return ExpressionWalkthrough(
        expression=req.expression, x=req.x, y=req.y, value=nodes[root]["value"],
        gradient=grads, nodes=[WNode(**n) for n in nodes.values()], edges=edges,
        forward=forward, backward=backward)


def _order_layers(nodes, model, box):
    """Order nodes within each layer by the mean order of their inputs (fewer crossings)."""
    preds = {}
    for e in model.edges:
        if e.index is not None:
            preds.setdefault(e.dst, []).append(box(e.src))
    by_layer = {}
    for nid, n in nodes.items():
        by_layer.setdefault(n["layer"], []).append(nid)
    for lay in sorted(by_layer):
        ids = by_layer[lay]
        if lay:
            ids.sort(key=lambda i: sum(nodes[p]["order"] for p in preds[i]) / len(preds[i]))
        for o, nid in enumerate(ids):
            nodes[nid]["order"] = o


# -------------------------------------------------------------------------- router
router = APIRouter(prefix="/api/walkthrough", tags=["walkthrough"])
_errors = {400: {"model": ErrorResponse, "description": "bad input, with a message"},
           422: {"model": ErrorResponse, "description": "malformed request, with a message"}}


@router.get("/network/default", response_model=TextNetwork,
            summary="A small network with seeded weights, to start the walkthrough from")
def api_default(inputs: int = Query(2, ge=1, le=MAX_INPUTS),
                hidden: int = Query(3, ge=1, le=MAX_HIDDEN),
                outputs: int = Query(2, ge=1, le=MAX_OUTPUTS),
                seed: int = Query(0, ge=0, le=2**31)):
    return default_network(inputs, hidden, outputs, seed)


@router.post("/network", response_model=NetworkWalkthrough, responses=_errors,
             summary="Forward values and backward steps of the text's network (eqs. 5.9–5.12)")
def api_network(spec: TextNetwork):
    return network_walkthrough(spec)


@router.post("/network/step", response_model=StepResponse, responses=_errors,
             summary="One gradient-descent step w ← w − η∂E/∂w, with E before and after")
def api_step(req: TextNetworkStep):
    return gradient_step(req)


@router.post("/expression", response_model=ExpressionWalkthrough, responses=_errors,
             summary="Graph, forward values and backward steps of an expression F(x, y)")
def api_expression(req: ExpressionRequest):
    return expression_walkthrough(req)
