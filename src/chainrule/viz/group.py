"""Keeping large graphs readable: each level merges more of the graph into fewer boxes.

``full``      every value and every op (constants included);
``compact``   each op box carries its output value; constants fold into their op;
``modules``   the ops that use a module's parameters (named ``"0.weight"`` by ``cr.nn``),
              and those parameters, become one box named after the module (``"0"``);
``chains``    runs of the same op (``tanh(tanh(...))``) become one box ``tanh ×k``;
``ops``       every remaining op is grouped by name (``mul ×1000``), and leaves by kind
              (``inputs ×N``) when there are more than a few;
``top``       modules merge into their top-level module (``encoder.0`` → ``encoder``).

After ``ops`` a drawing has at most one box per op name and per module, plus a few leaf
boxes, however large the graph. Edges between merged boxes are merged too, with a count.
"""

from __future__ import annotations

from dataclasses import replace

from .model import Model, VizNode

LEVELS = ("full", "compact", "modules", "chains", "ops", "top")
FEW_LEAVES = 4  # up to this many leaves of one kind stay separate boxes at level "ops"


def compact(model: Model) -> Model:
    """Fold each op's output value into the op's box and drop constant boxes."""
    producer = {v: o for o, v in model.op_output.items()}
    nodes = {}
    for nid, n in model.nodes.items():
        if n.kind == "value":
            if n.role != "const" and nid not in producer:
                nodes[nid] = n
            continue
        v = model.nodes[model.op_output[nid]]
        nodes[nid] = replace(n, role=v.role, name=v.name, shape=v.shape, dtype=v.dtype,
                             data=v.data, grad=v.grad, ops={n.op: 1}, members=[nid],
                             label=v.name or n.label)
    edges = []
    for e in model.edges:
        if e.src in model.op_output and e.dst == model.op_output[e.src]:
            continue
        src = producer.get(e.src, e.src)
        if src in nodes:
            edges.append(replace(e, src=src))
    root = producer.get(model.root, model.root)
    return Model(nodes, edges, root, model.grads, "compact", model.total)


def _merge(gid, members, label, role):
    ops, params, count = {}, [], 0
    for m in members:
        if m.kind == "value":
            if m.role in ("leaf", "input") and m.name:
                params.append((m.name, m.shape))
            continue
        count += m.count
        for k, c in m.ops.items():
            ops[k] = ops.get(k, 0) + c
        params.extend(m.param_names)
    leaves = sum(1 for m in members if m.kind == "value")
    scopes = {m.scope for m in members}
    last = members[-1]
    return VizNode(
        gid, "group", label, role=role, scope=scopes.pop() if len(scopes) == 1 else None,
        count=count if count else leaves, ops=ops, param_names=params,
        shape=last.shape if role in ("chain", "module") else None,
        members=[x for m in members for x in (m.members or [m.id])],
    )


def quotient(model: Model, key, level: str, describe) -> Model:
    """Merge the nodes that ``key(node)`` maps to the same string (None: keep alone).

    ``describe(key, members) -> (label, role)`` names each merged box.
    """
    groups: dict = {}
    for nid, n in model.nodes.items():
        k = key(n)
        groups.setdefault(nid if k is None else k, []).append(nid)
    nodes, where = {}, {}
    for k, ids in groups.items():
        if len(ids) == 1:
            nodes[ids[0]] = model.nodes[ids[0]]
            where[ids[0]] = ids[0]
            continue
        members = [model.nodes[i] for i in ids]
        label, role = describe(k, members)
        nodes[k] = _merge(k, members, label, role)
        for i in ids:
            where[i] = k
    merged: dict = {}
    for e in model.edges:
        s, d = where[e.src], where[e.dst]
        if s == d:
            continue
        if (s, d) in merged:
            m = merged[(s, d)]
            m.count += e.count
            m.index = m.grad = m.local = None
        else:
            merged[(s, d)] = replace(e, src=s, dst=d)
    return Model(nodes, list(merged.values()), where[model.root], model.grads, level,
                 model.total)


def _describe(k, members):
    kind, _, rest = k.partition(":")
    n = sum(m.count for m in members)
    if kind == "module":
        return rest, "module"
    if kind == "chain":
        return f"{members[0].op} ×{n}", "chain"
    if kind == "ops":
        op = rest.split("|", 1)[1]
        return f"{op} ×{n}", "ops"
    return ("inputs" if rest == "input" else "leaves") + f" ×{len(members)}", "leaves"


def modules(model: Model) -> Model:
    def key(n):
        if n.scope is None:
            return None
        if n.kind in ("op", "group") or n.role == "leaf":
            return "module:" + n.scope
        return None

    return quotient(model, key, "modules", _describe)


def chains(model: Model) -> Model:
    out_deg, op_preds = {}, {}
    for e in model.edges:
        out_deg[e.src] = out_deg.get(e.src, 0) + 1
        if model.nodes[e.src].kind != "value":
            op_preds.setdefault(e.dst, []).append(e.src)
    parent = {}

    def find(a):
        while parent.get(a, a) != a:
            parent[a] = parent.get(parent[a], parent[a])
            a = parent[a]
        return a

    for e in model.edges:
        u, v = model.nodes[e.src], model.nodes[e.dst]
        if (u.kind == "op" and v.kind == "op" and u.op == v.op and out_deg[u.id] == 1
                and op_preds.get(v.id) == [u.id]):
            parent[find(v.id)] = find(u.id)

    size: dict = {}
    for nid, n in model.nodes.items():
        if n.kind == "op":
            r = find(nid)
            size[r] = size.get(r, 0) + 1

    def key(n):
        if n.kind != "op":
            return None
        r = find(n.id)
        return "chain:" + r if size[r] > 1 else None

    return quotient(model, key, "chains", _describe)


def by_op(model: Model) -> Model:
    roles: dict = {}
    for n in model.nodes.values():
        if n.kind == "value":
            roles[n.role] = roles.get(n.role, 0) + 1

    def key(n):
        if n.kind == "op" or (n.kind == "group" and n.role in ("chain", "ops")):
            op = n.op or next(iter(n.ops))
            return f"ops:{n.scope or ''}|{op}"
        if n.kind == "value" and roles.get(n.role, 0) > FEW_LEAVES:
            return "leaves:" + n.role
        return None

    return quotient(model, key, "ops", _describe)


def top(model: Model) -> Model:
    def key(n):
        if n.kind == "group" and n.role == "module" and n.scope:
            return "module:" + n.scope.split(".")[0]
        if n.kind == "group" and n.role == "ops" and n.scope:
            return "ops:|" + next(iter(n.ops))
        return None

    out = quotient(model, key, "top", _describe)
    for n in out.nodes.values():
        if n.role == "module" and n.kind == "group" and n.id.startswith("module:"):
            n.scope = n.id.split(":", 1)[1]
    return out


STEPS = {"compact": compact, "modules": modules, "chains": chains, "ops": by_op, "top": top}


def reduce(model: Model, max_nodes: int | None, upto: str = "top") -> Model:
    """Apply the levels in order until the model has at most ``max_nodes`` boxes
    (``None``: go straight to ``upto``)."""
    if upto not in LEVELS:
        raise ValueError(f"draw_graph: group must be 'auto' or one of {LEVELS}, got {upto!r}")
    for level in LEVELS[1:LEVELS.index(upto) + 1]:
        if max_nodes is not None and len(model.nodes) <= max_nodes:
            break
        model = STEPS[level](model)
    return model
