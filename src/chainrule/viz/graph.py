"""``draw_graph``: the computational graph of a tensor, laid out by Graphviz.

The drawing is made from the pure-Python :class:`~chainrule.viz.model.Model` (no Graphviz
needed to build or inspect it); only :meth:`Graph.svg`, :meth:`Graph.pipe` and saving
to ``.svg``/``.png``/``.pdf`` run Graphviz's ``dot``, through the optional ``graphviz``
package (``pip install "chainrule[viz]"``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._extras import require
from ..errors import UserError
from .group import LEVELS, reduce
from .model import Model, VizEdge, VizNode, trace

_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": None, ".gv": None}
_STYLE = {
    "leaf": 'shape=box, style="rounded,filled,bold", fillcolor="#c8ebc8"',
    "input": 'shape=box, style="rounded,filled", fillcolor="#e6e6e6"',
    "const": 'shape=box, style="rounded,dashed", fontsize=9',
    "intermediate": 'shape=box, style="rounded,filled", fillcolor="#ffffff"',
    "output": 'shape=box, style="rounded,filled", penwidth=2, fillcolor="#fff0a8"',
    "op": 'shape=ellipse, style=filled, fillcolor="#ffd8b0"',
    "module": 'shape=tab, style=filled, fillcolor="#d6e4f7"',
    "group": 'shape=box3d, style=filled, fillcolor="#e4dcf5"',
}


class GraphvizNotFoundError(UserError, RuntimeError):
    """Graphviz's ``dot`` program is not installed or not on ``PATH``.

    Examples
    --------
    >>> issubclass(cr.viz.GraphvizNotFoundError, cr.UserError)   # shown as one line by the CLI
    True
    >>> g = cr.viz.draw_graph(cr.tensor(2.0, requires_grad=True) * 3)
    >>> path = g.save("graph.dot")         # needs no Graphviz; .svg/.png/.pdf raise it without dot
    """


def _install_advice():
    return (
        "Graphviz's 'dot' program was not found on PATH; draw_graph needs it to make "
        "SVG/PNG/PDF. Install it with your system's package manager: "
        "'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS), "
        "'conda install -c conda-forge graphviz', or from https://graphviz.org/download/ "
        "(Windows: add its bin folder to PATH). The Python side comes with "
        "pip install \"chainrule[viz]\". Saving to '.dot' works without it."
    )


def format_array(a, max_data=6):
    """Short text for an array: all of it when it has at most ``max_data`` elements.

    Examples
    --------
    >>> from chainrule.viz import format_array
    >>> format_array(np.array([1.0, 2.5])), format_array(np.array(3.14159))
    ('[1, 2.5]', '3.142')
    >>> format_array(np.zeros(9)) is None          # more than max_data elements
    True
    """
    a = np.asarray(a)
    if a.size == 1:
        v = a.reshape(-1)[0]
        return f"{v:.4g}" if a.dtype.kind in "fc" else str(v)
    if a.size <= max_data:
        if a.dtype.kind in "fc":
            return "[" + ", ".join(f"{v:.4g}" for v in a.reshape(-1)) + "]"
        return "[" + ", ".join(str(v) for v in a.reshape(-1)) + "]"
    return None


def _shape_text(shape):
    if shape is None:
        return None
    return "scalar" if shape == () else "shape " + "×".join(str(s) for s in shape)


def node_lines(n: VizNode, max_data=6):
    """The lines of text in a node's box (also used by the explorer).

    Examples
    --------
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> x.name = "x"
    >>> g = cr.viz.draw_graph(x * x + x)
    >>> cr.viz.node_lines(g.find(role="leaf")[0])        # d(x² + x)/dx = 2x + 1 = 5
    ['x  [leaf]', 'data 2', 'grad 5']
    """
    if n.kind == "group":
        lines = [n.label]
        if len(n.ops) > 1 or (n.ops and n.role == "module"):
            ops = sorted(n.ops.items(), key=lambda kv: -kv[1])
            text = ", ".join(f"{k} ×{c}" for k, c in ops[:4])
            more = f", +{len(ops) - 4} more" if len(ops) > 4 else ""
            lines.append(f"{n.count} ops: {text}{more}")
        if n.param_names:
            names = [name for name, _ in n.param_names]
            more = f" +{len(names) - 3} more" if len(names) > 3 else ""
            lines.append("params: " + ", ".join(names[:3]) + more)
        if n.shape is not None:
            lines.append("out " + _shape_text(n.shape))
        return lines
    if n.kind == "op" and n.shape is None:  # an op box of the full graph
        return [n.op] + ([n.params] if n.params else [])
    if n.kind == "op":
        lines = [n.op if not n.name else f"{n.name} = {n.op}"]
        if n.params:
            lines.append(n.params)
    elif n.role in ("leaf", "input"):
        lines = [f"{n.name or n.role}  [{n.role}]" if n.name else n.role]
    elif n.role == "output":
        lines = [n.name or "output"]
    elif n.role == "const":
        lines = ["const"]
    else:
        lines = [n.name] if n.name else []
    if n.shape is not None and n.shape != ():
        lines.append(_shape_text(n.shape))
    if n.data is not None:
        d = format_array(n.data, max_data)
        if d is not None:
            lines.append(("" if n.role == "const" else "data ") + d)
    if n.grad is not None:
        g = format_array(n.grad, max_data)
        lines.append(f"grad {g}" if g is not None else
                     f"grad ‖·‖ {float(np.linalg.norm(np.asarray(n.grad, float))):.4g}")
    return lines


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class Graph:
    """A drawing of the graph behind a tensor.

    Attributes
    ----------
    nodes : dict of str to VizNode
        The boxes drawn, in forward order (values, ops, and groups when grouped).
    edges : list of VizEdge
        Arrows in the direction of the forward pass.
    level : str
        How far the graph was grouped (``"full"`` draws every value and op; see
        :mod:`chainrule.viz.group`).
    full : Model
        The ungrouped graph, every value and op.
    grads : str
        ``"compute"`` (∂output/∂value from the engine), ``"attr"`` (the tensors' ``.grad``)
        or ``"none"``.

    Examples
    --------
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> g = cr.viz.draw_graph(x * x + x)
    >>> g
    <Graph: 5 boxes, 6 edges, level 'full' of a graph with 5 nodes; grads 'compute'>
    >>> [n.label for n in g.find(kind="op")], g.source.startswith("digraph")
    (['mul', 'add'], True)
    """

    def __init__(self, model: Model, full: Model, max_data=6, rankdir="TB", clusters=True):
        self.model = model
        self.full = full
        self.max_data = max_data
        self.rankdir = rankdir
        self.clusters = clusters

    nodes = property(lambda self: self.model.nodes)
    edges = property(lambda self: self.model.edges)
    level = property(lambda self: self.model.level)
    root = property(lambda self: self.model.root)
    grads = property(lambda self: self.model.grads)
    total = property(lambda self: self.full.total)

    def find(self, label=None, *, name=None, op=None, role=None, kind=None):
        """Boxes matching every given attribute."""
        want = {"label": label, "name": name, "op": op, "role": role, "kind": kind}
        return [n for n in self.nodes.values()
                if all(v is None or getattr(n, k) == v for k, v in want.items())]

    def incoming(self, node_id):
        """Edges into ``node_id`` (its inputs), by input position."""
        return sorted((e for e in self.edges if e.dst == node_id),
                      key=lambda e: -1 if e.index is None else e.index)

    def outgoing(self, node_id):
        """Edges out of ``node_id`` (the ops that use it)."""
        return [e for e in self.edges if e.src == node_id]

    # ------------------------------------------------------------------ dot text
    @property
    def source(self) -> str:
        """The graph in Graphviz's dot language."""
        out = [
            "digraph chainrule {",
            f'  graph [rankdir={self.rankdir}, fontname="Helvetica", fontsize=10, '
            'nodesep=0.25, ranksep=0.35];',
            '  node [fontname="Helvetica", fontsize=10, margin="0.08,0.04", height=0.3];',
            '  edge [fontname="Helvetica", fontsize=8, color="#555555", arrowsize=0.7];',
        ]
        fan_out = {}
        for e in self.edges:
            fan_out[e.src] = fan_out.get(e.src, 0) + 1
        clusters = {}
        self._producer = {v: o for o, v in self.full.op_output.items()}
        for n in self.nodes.values():
            out.append(f"  {_quote(n.id)} [{self._style(n)}, "
                       f"label={_quote(chr(10).join(node_lines(n, self.max_data)))}];")
            c = self._cluster(n)
            if c is not None:
                clusters.setdefault(c, []).append(n.id)
        for k, (scope, ids) in enumerate(clusters.items()):
            members = " ".join(_quote(i) + ";" for i in ids)
            out.append(f'  subgraph cluster_{k} {{ label={_quote(scope)}; style="dashed,rounded"; '
                       f'color="#7a8fb0"; fontcolor="#42577a"; {members} }}')
        for e in self.edges:
            attrs = self._edge_attrs(e, fan_out.get(e.src, 0))
            out.append(f"  {_quote(e.src)} -> {_quote(e.dst)}{attrs};")
        out.append("}")
        return "\n".join(out) + "\n"

    def _style(self, n):
        if n.kind == "group":
            return _STYLE["module" if n.role == "module" else "group"]
        if n.kind == "op":
            if n.shape is None:
                return _STYLE["op"]
            box = 'shape=box, style="rounded,filled", fillcolor="#ffd8b0"'
            return box + (", penwidth=2" if n.role == "output" else "")
        return _STYLE.get(n.role, _STYLE["intermediate"])

    def _cluster(self, n):
        if not self.clusters or self.level not in ("full", "compact"):
            return None
        if n.scope is not None and (n.kind == "op" or n.role == "leaf"):
            return n.scope
        if self.level == "full" and n.kind == "value":
            op_id = self._producer.get(n.id)
            return None if op_id is None else self.nodes[op_id].scope
        return None

    def _edge_attrs(self, e: VizEdge, fan_out):
        label = []
        dst = self.nodes[e.dst]
        if e.index is not None and dst.ordered:
            label.append(f"#{e.index}")
        if e.count > 1:
            label.append(f"×{e.count}")
        if fan_out > 1 and e.grad is not None:
            g = format_array(e.grad, self.max_data)
            if g is not None:
                label.append(f"grad part {g}")
        return f" [label={_quote(' '.join(label))}]" if label else ""

    # ------------------------------------------------------------------ rendering
    def pipe(self, format="svg") -> bytes:
        """The drawing as ``format`` (``"svg"``, ``"png"``, ``"pdf"``), made by ``dot``."""
        graphviz = require("graphviz", "viz", "drawing a graph")
        try:
            return graphviz.Source(self.source, engine="dot").pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFoundError(_install_advice()) from None

    def svg(self) -> str:
        return self.pipe("svg").decode("utf-8")

    def _repr_svg_(self):
        return self.svg()

    def save(self, path, format=None) -> Path:
        """Write the drawing to ``path``: ``.svg``, ``.png``, ``.pdf`` (run ``dot``), or
        ``.dot``/``.gv`` (the dot text, no Graphviz needed). Returns the path."""
        path = Path(path)
        suffix = "." + format if format else path.suffix.lower()
        if suffix not in _FORMATS:
            raise ValueError(
                f"save: cannot tell the format of {str(path)!r}; use a name ending in "
                + ", ".join(_FORMATS) + " (or pass format=...)"
            )
        fmt = _FORMATS[suffix]
        if fmt is None:
            path.write_text(self.source, encoding="utf-8")
        else:
            path.write_bytes(self.pipe(fmt))
        return path

    def __repr__(self):
        return (f"<Graph: {len(self.nodes)} boxes, {len(self.edges)} edges, level "
                f"{self.level!r} of a graph with {self.total} nodes; grads {self.grads!r}>")


def draw_graph(t, *, grads="auto", grad_output=None, max_nodes=120, group="auto",
               max_data=6, rankdir="TB", clusters=True) -> Graph:
    """Draw the computational graph that produced ``t``.

    One box per value (leaves in green, marked ``[leaf]`` and named where ``.name`` is
    set, e.g. by ``cr.nn``; inputs that need no gradient in grey; constants dashed; the
    output in yellow) and per op (orange ellipses), arrows in the direction of the forward
    pass. Each value shows its shape, its data when it has at most ``max_data`` elements,
    and its gradient. Where a value feeds several ops, the arrows out of it show each op's
    share of its gradient, which add up to the gradient in its box.

    Parameters
    ----------
    t : Tensor
        The result whose graph to draw (often the loss).
    grads : {"auto", "compute", "attr", "none"}
        Where gradients come from. ``"compute"``: ∂t/∂v for every value v by one
        ``cr.grad(t, ..., retain_graph=True)``; nothing is accumulated into ``.grad`` and
        the graph stays usable. ``"attr"``: the
        ``.grad`` the tensors hold (leaves after a backward, non-leaves that called
        ``retain_grad()``). ``"auto"`` (default): ``"compute"`` when ``t`` requires grad
        and has one element (or ``grad_output`` is given) and no backward has freed its
        graph, else ``"attr"``. After ``t.backward()`` the structure remains (the
        intermediate arrays are freed, so those boxes show shapes) and ``"attr"`` shows
        the gradients the backward left in ``.grad``.
    grad_output : array_like, optional
        The gradient to start from when ``t`` has more than one element.
    max_nodes : int
        With ``group="auto"``, group the graph (see :mod:`chainrule.viz.group`: fold op
        outputs into their ops, collapse modules, runs of the same op, then everything by
        op name) until at most this many boxes remain. A graph of thousands of nodes
        thus draws as at most ``max_nodes`` boxes, or one box per op name and module.
    group : {"auto", "full", "compact", "modules", "chains", "ops", "top"}
        ``"auto"`` groups only as much as ``max_nodes`` needs; a level name applies every
        level up to it (``"full"``: draw everything).
    max_data : int
        Show data and gradients of tensors with at most this many elements.
    rankdir : {"TB", "LR"}
        Top to bottom, or left to right.
    clusters : bool
        Frame each module's parameters and ops (ungrouped levels).

    Returns
    -------
    Graph
        Shows itself in Jupyter; ``.save("g.svg")`` (also .png, .pdf, .dot), ``.source``
        for the dot text, ``.nodes``/``.edges`` for the model.

    Examples
    --------
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> g = cr.viz.draw_graph(x * x + x)
    >>> g.find(role="leaf")[0].grad
    array(5.)
    """
    if group != "auto" and group not in LEVELS:
        raise ValueError(f"draw_graph: group must be 'auto' or one of {LEVELS}, got {group!r}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw_graph: rankdir must be TB, LR, BT or RL, got {rankdir!r}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be a positive int, got {max_nodes!r}")
    full = trace(t, grads=grads, grad_output=grad_output)
    if group == "auto":
        model = reduce(full, max_nodes)
    else:
        model = reduce(full, None, group)
    return Graph(model, full, max_data=max_data, rankdir=rankdir, clusters=clusters)
