"""Griffe extension for the API pages: make docstrings written for plain ``help()`` and
Sphinx read well in mkdocstrings, without changing them in the code.

- Sphinx roles (``:class:`~chainrule.nn.Module```, ``:func:`...```) become inline code
  (with ``~``, the last part of the name only).
- Doctest lines (``>>> ...``) outside a NumPy-style ``Examples`` section become a fenced
  ``pycon`` block instead of a Markdown block quote.

Loaded by mkdocs.yml (``handlers.python.options.extensions``); excluded from the pages.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|obj|exc|const):`(~?)([^`]+)`")


def _role(m: re.Match) -> str:
    name = m.group(2)
    return f"`{name.rsplit('.', 1)[-1] if m.group(1) else name}`"


def _fence_doctests(text: str) -> str:
    lines, out, section, i = text.splitlines(), [], None, 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1]) and line.strip():
            section = line.strip()
        if line.lstrip().startswith(">>>") and section != "Examples":
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            out += [indent + "```pycon", *(indent + b for b in block), indent + "```"]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class SphinxDocstrings(griffe.Extension):
    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _fence_doctests(ROLE.sub(_role, obj.docstring.value))
