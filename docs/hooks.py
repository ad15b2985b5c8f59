"""MkDocs hook: pages say ``<!-- chainrule-help: COMMAND -->`` and get that command's
``--help`` text, taken from the argparse parser itself, so the CLI page cannot drift from
the program. (Listed under ``hooks:`` in mkdocs.yml; excluded from the pages.)"""

from __future__ import annotations

import os
import re

MARKER = re.compile(r"<!-- chainrule-help: ?([a-z-]*) -->")


def _help(command: str) -> str:
    from chainrule.cli import build_parser

    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal's width
    parser = build_parser()
    if not command:
        return parser.format_help()
    for action in parser._subparsers._group_actions:
        if command in action.choices:
            return action.choices[command].format_help()
    raise ValueError(f"docs: no chainrule subcommand {command!r} (see mkdocs hook docs/hooks.py)")


def on_page_markdown(markdown, page, config, files):
    return MARKER.sub(lambda m: "```text\n" + _help(m.group(1)).rstrip() + "\n```", markdown)
