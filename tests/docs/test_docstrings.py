"""Every public name has a docstring with an example, and every example runs (doctest).

Public names: ``cr.__all__`` (or, while the package has none, every non-underscore name
that ``chainrule/__init__.py`` binds, plus its lazily loaded ``save``, ``load`` and
``compile``) and the ``__all__`` of ``cr.nn``, ``cr.optim``, ``cr.data``, ``cr.viz``,
``cr.explorer``, ``cr.io``, ``cr.backend`` and their public submodules. Data constants
(``cr.float32``, ``cr.OPS``, ``nn.ACTIVATIONS``, ...) are described in their module's
docstring and have no docstring of their own, so they are not counted.

Names defined in the engine's core files (tensor.py, autograd.py, ops.py, graph.py,
compiler.py) that still lack an example are listed in PENDING_CORE: other work was
rewriting those files when the examples were written. The list is exact — a name that
gains an example must leave it, and a new name without one fails.
"""

from __future__ import annotations

import doctest
import importlib
import os
import types

import numpy as np
import pytest

import chainrule as cr

MODULES = [
    "chainrule",
    "chainrule.nn", "chainrule.nn.functional", "chainrule.nn.init", "chainrule.nn.utils",
    "chainrule.optim", "chainrule.optim.lr_scheduler",
    "chainrule.data", "chainrule.viz", "chainrule.explorer", "chainrule.explorer.landscape",
    "chainrule.io", "chainrule.gradcheck", "chainrule.distributed", "chainrule.nn.parallel",
    "chainrule.backend",
]
CORE = {f"chainrule.{m}" for m in ("tensor", "autograd", "ops", "graph", "compiler")}

PENDING_CORE: frozenset[str] = frozenset()


def _names(module_name):
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None and module_name == "chainrule":
        names = [n for n in vars(module) if not n.startswith("_")] + list(cr._LAZY_NAMES)
    elif names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_")
                 and getattr(v, "__module__", None) == module_name]
    return module, names


def _documentable(obj):
    if isinstance(obj, types.ModuleType):
        return False  # submodules are enumerated on their own
    if isinstance(obj, type) and obj.__module__ == "numpy":
        return False  # cr.float32 and friends are NumPy's
    return callable(obj)


def public_objects():
    """``(qualified name, name, object)`` once per object, and every name of each object."""
    seen, out, aliases = set(), [], {}
    for module_name in MODULES:
        module, names = _names(module_name)
        for name in names:
            obj = getattr(module, name)
            if not _documentable(obj):
                continue
            aliases.setdefault(id(obj), set()).add(name)
            if id(obj) not in seen:
                seen.add(id(obj))
                out.append((f"{module_name}.{name}", name, obj))
    return out, aliases


OBJECTS, ALIASES = public_objects()


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Examples write files into a fresh folder, and one re-seeds cr.nn.init's default
    generator, and one starts with no process group: the rest of the suite gets all back as
    they were."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cr.nn.init, "_default", cr.nn.init.default_generator())
    monkeypatch.setattr(cr.distributed, "_world", None)  # each example starts with no group
PARSER = doctest.DocTestParser()


def _has_example(obj):
    """At least one doctest example that runs (``+SKIP`` ones do not count)."""
    examples = PARSER.get_examples(obj.__doc__ or "")
    return any(not e.options.get(doctest.SKIP, False) for e in examples)


def _is_core(obj):
    return getattr(obj, "__module__", "") in CORE


def test_names_are_enumerated():
    assert len(OBJECTS) > 100
    qualified = {q for q, _, _ in OBJECTS}
    assert {"chainrule.tensor", "chainrule.nn.Linear", "chainrule.optim.SGD",
            "chainrule.data.DataLoader", "chainrule.viz.draw_graph",
            "chainrule.explorer.show"} <= qualified


def test_every_public_name_has_a_docstring():
    assert [q for q, name, obj in OBJECTS if not (obj.__doc__ or "").strip()
            and not (_is_core(obj) and name in PENDING_CORE)] == []


def test_every_public_name_outside_the_core_has_an_example():
    assert [q for q, _, obj in OBJECTS if not _is_core(obj) and not _has_example(obj)] == []


def test_pending_core_names_are_exactly_those_without_an_example():
    missing = set()
    for _, _, obj in OBJECTS:
        if _is_core(obj) and not _has_example(obj):
            missing |= ALIASES[id(obj)]
    assert missing - PENDING_CORE == set(), "new core names without an example"
    assert PENDING_CORE - missing == set(), "these now have examples: drop them from PENDING_CORE"


@pytest.mark.parametrize("qualified,obj", [(q, o) for q, _, o in OBJECTS if _has_example(o)],
                         ids=[q for q, _, o in OBJECTS if _has_example(o)])
def test_examples_run(qualified, obj):
    finder = doctest.DocTestFinder(recurse=isinstance(obj, type), exclude_empty=True)
    tests = [t for t in finder.find(obj, qualified, globs={"cr": cr, "np": np})
             if t.examples]
    assert tests, f"{qualified}: no runnable example found"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    for t in tests:
        runner.run(t, out=out.append)
    assert runner.failures == 0, "".join(out)


@pytest.mark.parametrize("module_name", MODULES)
def test_module_docstring_examples_run(module_name, tmp_path):
    module = importlib.import_module(module_name)
    test = doctest.DocTestParser().get_doctest(module.__doc__ or "", {"cr": cr, "np": np},
                                               module_name, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    assert os.getcwd() == str(tmp_path)
