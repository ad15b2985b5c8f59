"""Seeing back-propagation: the computational graph behind a tensor.

>>> import chainrule as cr
>>> x = cr.tensor(2.0, requires_grad=True)
>>> g = cr.viz.draw_graph(x * x + x)     # in Jupyter it shows itself
>>> path = g.save("graph.dot")          # .svg, .png and .pdf need Graphviz's dot

The graph is built as plain Python data (:mod:`chainrule.viz.model`), so it can be
inspected without Graphviz; drawing it needs Graphviz's ``dot`` and the ``graphviz``
package (``pip install "chainrule[viz]"``).
"""

from .graph import Graph, GraphvizNotFoundError, draw_graph, format_array, node_lines
from .group import LEVELS
from .model import Model, VizEdge, VizNode, trace

__all__ = [
    "Graph", "GraphvizNotFoundError", "LEVELS", "Model", "VizEdge", "VizNode",
    "draw_graph", "format_array", "node_lines", "trace",
]
