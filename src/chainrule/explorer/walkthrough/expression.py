"""Any expression F(x, y) in the explorer's grammar: its graph (built by the safe parser,
never ``eval``), forward values, then the backward pass node by node, all from
:func:`chainrule.viz.trace`."""

from __future__ import annotations

import numpy as np

from ... import autograd
from ...creation import tensor
from ...errors import UserError
from ...viz.model import trace
from ..parser import compile_expression
from .models import (
    BackwardStep,
    ExpressionRequest,
    ExpressionWalkthrough,
    ForwardStep,
    Term,
    WEdge,
    WNode,
    _n,
)

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


def expression_walkthrough(req: ExpressionRequest) -> ExpressionWalkthrough:
    """Graph, forward values and backward steps of ``F(x, y)`` at one point."""
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
