"""The op functions ``chainrule`` exports at run time (generated from ``cr.OPS``) are the
ones its ``if TYPE_CHECKING:`` block names for type checkers, under the same names."""

import ast
from pathlib import Path

import chainrule as cr
from chainrule import ops


def _type_checking_imports():
    tree = ast.parse(Path(cr.__file__).read_text())
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            return {a.asname or a.name: a.name for stmt in node.body
                    if isinstance(stmt, ast.ImportFrom) and stmt.module == "ops"
                    for a in stmt.names}
    raise AssertionError("chainrule/__init__.py has no `if TYPE_CHECKING:` import of .ops")


def test_type_checkers_see_every_exported_op_under_its_name():
    seen = _type_checking_imports()
    assert set(seen) == set(ops.EXPORTS), "update the TYPE_CHECKING block in chainrule/__init__.py"
    for public, defined in seen.items():
        assert getattr(ops, defined) is ops.EXPORTS[public] is getattr(cr, public), public
