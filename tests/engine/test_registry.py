"""One place per op: ``defop`` carries the facts the rest derives (Tensor methods, ``cr.*``
names, graph labels), and every function a VJP calls through ``F`` exists in every
namespace a VJP runs under (NumPy for a plain backward, Tensors for ``create_graph``)."""

import ast
import inspect

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.tensor import Tensor


def _f_names():
    """Every ``F.<name>`` in ops.py: VJPs and their helpers call functions only through F."""
    tree = ast.parse(inspect.getsource(ops))
    return {n.attr for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "F"}


def test_every_name_a_vjp_uses_exists_in_every_namespace():
    used = _f_names()
    assert {"exp", "sum", "reshape", "where"} <= used  # the scan finds the formulas' calls
    for space in (ops.NP, ops.TS):
        missing = used - set(vars(space))
        assert not missing, f"VJPs call F.{sorted(missing)}, missing from a namespace"
    assert set(vars(ops.NP)) == set(vars(ops.TS))


def test_methods_and_exports_come_from_each_defop():
    seen_methods = set()
    for op in cr.OPS.values():
        fn = getattr(ops, op.name, None)
        for name in op.methods:
            method = getattr(Tensor, name)
            assert method.__wrapped__ is fn, (op.name, name)
            seen_methods.add(name)
        for name in op.exports:
            assert getattr(cr, name) is fn, (op.name, name)
    assert {"exp", "clamp", "view", "__getitem__", "add"} <= seen_methods
    assert cr.cat is ops.concatenate and cr.clamp is ops.clip


def test_graph_labels_come_from_the_facts():
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    g = cr.viz.draw_graph((x.sum(axis=1) * 2.0 - x.mean()).sum(), group="full")
    ops_drawn = g.find(kind="op")
    assert ("sum", "axis=(1,)") in {(n.label, n.params) for n in ops_drawn}  # names from defop
    ordered = {n.label: n.ordered for n in ops_drawn}
    assert ordered["sub"] and not ordered["mul"]  # a - b is ordered, a * b is not
    assert "#0" in g.source and "#1" in g.source  # sub's edges are numbered in the drawing


def test_a_new_primitive_needs_only_its_defop():
    op = ops.defop("cube", lambda x: x ** 3, lambda F, g, out, x: g * 3 * x * x, reads="x")
    try:
        exports = ops._derive()  # what importing chainrule does with the table
        x = cr.tensor([2.0, -1.0], requires_grad=True)
        y = x.cube()
        assert y.grad_fn.op is op
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [12.0, 3.0])
        assert exports["cube"](x).tolist() == [8.0, -1.0]
        assert cr.gradgradcheck(lambda t: exports["cube"](t), [x])
        assert "cube" in {n.label for n in cr.viz.draw_graph(y.sum()).find(kind="op")}
        h = x * 1.0
        z = h.cube()
        with cr.no_grad():
            h += 1
        with pytest.raises(cr.BackwardError, match="'cube'.*changed in place"):
            z.sum().backward()  # reads="x": the version check guards it
    finally:
        del cr.OPS["cube"]
        delattr(Tensor, "cube")
