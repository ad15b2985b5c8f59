"""The graph behind a tensor as plain Python data: values, ops, edges and gradients.

:func:`trace` walks ``t._node`` iteratively (a chain of a million ops is fine) and returns
a :class:`Model`: one :class:`VizNode` per value (leaf, input, constant, intermediate,
output) and per op, and one :class:`VizEdge` per use of a value, in the direction of the
forward pass (value → op → value). Nothing here needs Graphviz, so tests and the explorer
read the same model that :func:`~chainrule.viz.draw_graph` draws.

Gradients come from the engine. With ``grads="compute"`` one ``cr.grad(t, [every value],
retain_graph=True)`` gives ``∂t/∂v`` for every value ``v`` (nothing is accumulated into
``.grad`` and the graph stays usable); each edge into an op also gets its share of that
gradient, the op's VJP for that input from the table in ``ops.py`` (so where a value feeds
several ops, its gradient is the sum of its outgoing edges' shares). With
``grads="attr"`` the model shows ``.grad`` as it is: leaves after a ``backward()`` and
non-leaves that called ``retain_grad()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..autograd import grad as _engine_grad
from ..autograd import parents
from ..errors import BackwardError
from ..graph import Node
from ..ops import NP
from ..tensor import Tensor, _wrap

GRAD_MODES = ("auto", "compute", "attr", "none")


@dataclass(eq=False)
class VizNode:
    """A box of the drawing.

    ``kind`` is ``"value"``, ``"op"`` or ``"group"``. Values have a ``role``: ``"leaf"``
    (a leaf that requires grad, e.g. a parameter), ``"input"`` (a leaf that does not),
    ``"const"`` (a number or array passed to an op), ``"intermediate"`` or ``"output"``.
    In a compact or grouped drawing an op box also carries its output's role, shape,
    data and grad. Groups list their members' ``ops`` (name → count) and ``params``.

    Examples
    --------
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> m = cr.viz.trace(x * x + x)
    >>> [(n.kind, n.role) for n in m.nodes.values()]
    [('value', 'leaf'), ('op', None), ('value', 'intermediate'), ('op', None), ('value', 'output')]
    """

    id: str
    kind: str
    label: str
    role: str | None = None
    op: str | None = None
    name: str | None = None
    shape: tuple | None = None
    dtype: str | None = None
    data: np.ndarray | None = None
    grad: np.ndarray | None = None
    params: str = ""
    scope: str | None = None
    count: int = 1
    ops: dict = field(default_factory=dict)
    members: list = field(default_factory=list)
    param_names: list = field(default_factory=list)
    ordered: bool = False  # an op whose inputs' order matters (its edges are numbered)

    def __repr__(self):
        extra = f" {self.shape}" if self.shape is not None else ""
        return f"<{self.kind} {self.id} {self.label!r}{extra}>"


@dataclass(eq=False)
class VizEdge:
    """``src → dst`` in the forward direction. ``index`` is the input position at ``dst``
    (an op); ``grad`` the gradient flowing back along this edge (the op's VJP for that
    input); ``local`` the local derivative ∂dst/∂src where both are single numbers;
    ``count`` how many edges of the full graph a grouped edge stands for.

    Examples
    --------
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> m = cr.viz.trace(x * x + x)
    >>> [float(e.grad) for e in m.edges if e.src == "n0"]      # x's three uses: 2 + 2 + 1 = 5
    [2.0, 2.0, 1.0]
    """

    src: str
    dst: str
    index: int | None = None
    grad: np.ndarray | None = None
    local: float | None = None
    count: int = 1


@dataclass(eq=False)
class Model:
    """Nodes (in forward topological order), edges, the output's id and where the
    gradients came from (``"compute"``, ``"attr"`` or ``"none"``).

    Examples
    --------
    >>> m = cr.viz.trace(cr.tensor(2.0, requires_grad=True) * 3)
    >>> len(m), m.grads, m.nodes[m.root].role
    (4, 'compute', 'output')
    """

    nodes: dict
    edges: list
    root: str
    grads: str = "none"
    level: str = "full"
    total: int = 0
    op_inputs: dict = field(default_factory=dict)  # op id -> input value ids, by position
    op_output: dict = field(default_factory=dict)  # op id -> output value id

    def __len__(self):
        return len(self.nodes)


def _freed_error(node):
    return BackwardError(
        f"draw_graph: grads='compute' needs the arrays an earlier backward() freed (the "
        f"'{node.op.name}' node kept only its structure). Draw with grads='attr' (the "
        "default after a backward) to see the .grad it filled, draw before calling "
        "backward(), or call backward(retain_graph=True) and draw afterwards"
    )


def walk(t):
    """Nodes and leaf tensors that made ``t``, each after everything it consumes."""
    root = t._node if t._node is not None else t
    order, seen = [], set()
    stack = [(root, False)]
    while stack:
        item, expanded = stack.pop()
        if expanded:
            order.append(item)
            continue
        if item in seen:
            continue
        seen.add(item)
        stack.append((item, True))
        if isinstance(item, Node):
            for p in reversed(parents(item)):
                if isinstance(p, (Node, Tensor)) and p not in seen:
                    stack.append((p, False))
    return order


def _params_text(node):
    """``axis=(0,)``-style text for an op's non-tensor parameters (defaults left out), named
    as its ``defop`` names them."""
    names = node.op.params
    parts = []
    for k, p in enumerate(node.params):
        if p is None or p is False:
            continue
        if isinstance(p, np.ndarray):
            text = f"array{p.shape}"
        elif p is True:
            text = ""
        else:
            text = repr(p)
            text = text if len(text) <= 24 else text[:21] + "..."
        name = names[k] if k < len(names) else f"p{k}"
        parts.append(f"{name}={text}" if text else name)
    return ", ".join(parts)


def _scope_of(name):
    if name and "." in name:
        return name.rsplit(".", 1)[0]
    return None


def _retained_name(node):
    for t in node.retained or ():
        if t.name:
            return t.name
    return None


def trace(t, grads="auto", grad_output=None):
    """The :class:`Model` of the graph that produced ``t``.

    Parameters
    ----------
    t : Tensor
    grads : {"auto", "compute", "attr", "none"}
        ``"compute"``: ∂t/∂v for every value by one ``cr.grad(..., retain_graph=True)``
        (needs a one-element ``t`` or ``grad_output``); ``"attr"``: the ``.grad`` the
        tensors hold; ``"auto"``: compute when ``t`` requires grad and has one element
        (or ``grad_output`` is given), else ``"attr"``.
    grad_output : array_like, optional
        The gradient to start from when ``t`` has more than one element.

    Examples
    --------
    >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> m = cr.viz.trace((x * x).sum())
    >>> [n.label for n in m.nodes.values() if n.kind == "op"], m.nodes["n0"].grad
    (['mul', 'sum'], array([2., 4.]))
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(t).__name__}")
    if grads not in GRAD_MODES:
        raise ValueError(f"draw_graph: grads must be one of {GRAD_MODES}, got {grads!r}")
    order = walk(t)
    freed = next((x for x in order if isinstance(x, Node) and x.freed), None)
    if grads == "auto":
        can = t.requires_grad and (t.data.size == 1 or grad_output is not None)
        grads = "compute" if can and freed is None else "attr"
    if grads == "compute" and freed is not None:
        raise _freed_error(freed)

    nodes, edges = {}, []
    value_id = {}  # leaf Tensor or Node (for its output) -> value node id
    op_id = {}  # Node -> op node id
    op_inputs, op_output = {}, {}
    counter = iter(range(1 << 62))

    def new(kind, label, **kw):
        nid = f"n{next(counter)}"
        nodes[nid] = VizNode(nid, kind, label, **kw)
        return nid

    root_item = order[-1]
    for item in order:
        if isinstance(item, Tensor):
            role = "leaf" if item.requires_grad else "input"
            label = item.name or ("leaf" if item.requires_grad else "input")
            value_id[item] = new(
                "value", label, role=role, name=item.name, shape=item.shape,
                dtype=str(item.dtype), data=item.data, scope=_scope_of(item.name),
            )
            continue
        node = item
        ins = []
        for x in parents(node):
            if isinstance(x, (Node, Tensor)):
                ins.append(value_id[x])
            else:
                arr = np.asarray(x)
                ins.append(new("value", "const", role="const", shape=arr.shape,
                               dtype=str(arr.dtype), data=arr))
        oid = new("op", node.op.name, op=node.op.name, params=_params_text(node),
                  ordered=node.op.ordered)
        out = t.data if node is root_item else node.out
        if out is None:  # freed by a backward: the structure and shape remain
            shape, dtype, data = node.kept[0], str(node.kept[1]), None
        else:
            shape, dtype, data = np.shape(out), str(np.asarray(out).dtype), np.asarray(out)
        name = t.name if node is root_item else _retained_name(node)
        vid = new(
            "value", name or ("output" if node is root_item else node.op.name),
            role="output" if node is root_item else "intermediate", name=name,
            shape=shape, dtype=dtype, data=data,
        )
        value_id[node] = vid
        op_id[node] = oid
        op_inputs[oid] = ins
        op_output[oid] = vid
        for i, src in enumerate(ins):
            edges.append(VizEdge(src, oid, index=i))
        edges.append(VizEdge(oid, vid))
    _set_scopes(order, nodes, value_id, op_id)

    model = Model(nodes, edges, value_id[root_item], grads, "full", 0, op_inputs, op_output)
    if grads == "compute":
        _compute_grads(t, order, model, value_id, op_id, grad_output)
    elif grads == "attr":
        _attr_grads(order, model, value_id)
    model.total = len(nodes)
    return model


def _set_scopes(order, nodes, value_id, op_id):
    """An op belongs to module ``S`` when it consumes parameters of ``S`` (named ``S.x``)
    or values computed from ``S``'s parameters alone (``W.T``)."""
    param_only = {}  # leaf Tensor or Node -> scope, for values made from one scope's params
    for item in order:
        if isinstance(item, Tensor):
            s = _scope_of(item.name) if item.requires_grad else None
            if s is not None:
                param_only[item] = s
            continue
        scopes, pure = set(), True
        for key in parents(item):
            if not isinstance(key, (Node, Tensor)):
                continue
            s = param_only.get(key)
            if s is None:
                pure = False
            else:
                scopes.add(s)
        if len(scopes) == 1:
            s = scopes.pop()
            nodes[op_id[item]].scope = s
            if pure:
                param_only[item] = s


def _compute_grads(t, order, model, value_id, op_id, grad_output):
    nodes = model.nodes
    items = [x for x in order if isinstance(x, Node) or x.requires_grad]
    inputs = [_wrap(x.out, x) if isinstance(x, Node) else x for x in items]
    if not inputs:
        return
    gs = _engine_grad(t, inputs, grad_outputs=grad_output, retain_graph=True,
                      allow_unused=True)
    grad_of = {}
    for item, g in zip(items, gs):
        if g is not None:
            grad_of[item] = g.data
            nodes[value_id[item]].grad = g.data
    edge_at = {(e.dst, e.index): e for e in model.edges if e.index is not None}
    for item in order:
        if not isinstance(item, Node) or item not in grad_of:
            continue
        g, op, out = grad_of[item], item.op, item.out
        args = [x.data if isinstance(x, Tensor) else x for x in item.inputs]
        for i, x in enumerate(item.inputs):
            if not isinstance(x, Tensor) or not x.requires_grad:
                continue
            gi = op.vjp(NP, i, g, out, args, item.params)
            gi = np.asarray(NP.sum_to(np.asarray(gi), x.shape))
            edge = edge_at[(op_id[item], i)]
            edge.grad = gi
            if np.size(out) == 1 and x.data.size == 1:
                li = op.vjp(NP, i, np.ones_like(np.asarray(out)), out, args, item.params)
                edge.local = float(np.asarray(li).reshape(-1)[0])


def _attr_grads(order, model, value_id):
    for item in order:
        if isinstance(item, Tensor):
            if item.grad is not None:
                model.nodes[value_id[item]].grad = np.asarray(item.grad.data)
        elif item.retained:
            for r in item.retained:
                if r.grad is not None:
                    model.nodes[value_id[item]].grad = np.asarray(r.grad.data)
