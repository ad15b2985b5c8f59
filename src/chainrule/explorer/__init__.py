"""The gradient explorer: an interactive page, served locally, whose numbers come from chainrule.

Start it with ``chainrule explore`` (http://127.0.0.1:8050/ by default). In Jupyter,
``chainrule.explorer.show()`` (or :class:`Explorer`) is a notebook widget computed in the
kernel, and ``show_app()`` frames the whole page. The parts:

- :mod:`.parser` — the safe expression grammar (``x^2 + 3*y^2``) compiled to chainrule ops;
  user text is never evaluated as Python.
- :mod:`.functions` — preset surfaces; :mod:`.network` — the 1-3-1 tanh network's error as a
  function of two weights.
- :mod:`.compute` and :mod:`.descent` — gradients, surfaces (one vectorized pass), Hessians,
  the Taylor picture and optimizer paths, independent of HTTP.
- :mod:`.app` — the FastAPI app (JSON API documented at ``/openapi.json``) and the page in
  ``static/``; :mod:`.cli` — the ``chainrule explore`` command.
- :mod:`.widget` — the notebook widget :class:`Explorer` (the ``widget`` extra: anywidget);
  :mod:`.notebook` — ``show()`` and ``show_app()``.

Adding a tab
------------
The page is a tab bar (``static/tabs.js``). A new tab needs no edit of the existing files
when it uses the names already reserved for it (the walkthrough does):

1. ``static/<name>.js`` calls ``chainrule.registerTab({id, title, init(panel), show(panel)})``;
   ``chainrule.api(path, body)`` POSTs JSON and rejects with the server's message on 4xx.
   Scripts are loaded when listed in :data:`.app.TAB_SCRIPTS` and present on disk.
2. ``explorer/<name>.py`` defines ``router = fastapi.APIRouter()`` with its endpoints under
   ``/api/<name>/...``; routers named in :data:`.app.OPTIONAL_ROUTERS` are included when
   their module exists. Requests run in parallel threads with no lock (chainrule's grad
   mode is per thread): keep shared state read-only, and raise
   :class:`chainrule.errors.UserError` for bad input (sent as 400 with ``{"error": message}``).
"""

from __future__ import annotations


def create_app(allowed_hosts=None):
    """The explorer's FastAPI app (see :func:`chainrule.explorer.app.create_app`).

    Examples
    --------
    >>> from chainrule.explorer import create_app
    >>> app = create_app(allowed_hosts=["127.0.0.1"])      # needs the explore extra (FastAPI)
    >>> app.title
    'chainrule explorer'
    """
    from .app import create_app as _create_app

    return _create_app(allowed_hosts=allowed_hosts)


def show(function=None, **options):
    """The explorer as a widget in the notebook cell: an :class:`Explorer` (see there for
    ``function``, ``fn=``, ``x``, ``y``, ``eta``, ``xrange``, ``yrange``, ``paths``).

    The whole explorer page (every tab, optimizers side by side, the walkthrough) is
    :func:`show_app`.

    Examples
    --------
    >>> import chainrule.explorer
    >>> w = chainrule.explorer.show("x^2 + 3*y^2", x=1.0, y=1.0)   # last line of a cell: drawn
    >>> w.value, w.gradient
    (4.0, [2.0, 6.0])
    """
    from .notebook import show as _show

    return _show(function, **options)


def show_app(width="100%", height=1100):
    """The whole explorer page framed in the notebook cell, served by a background server on
    127.0.0.1 (see :func:`chainrule.explorer.notebook.show_app`).

    Examples
    --------
    >>> import chainrule.explorer
    >>> view = chainrule.explorer.show_app(height=600)   # the last line of a cell displays it
    >>> view.src.startswith("http://127.0.0.1:")
    True
    >>> chainrule.explorer.notebook.stop()
    """
    from .notebook import show_app as _show_app

    return _show_app(width=width, height=height)


def export_html(function="x^2 + 3*y^2", out=None, **options):
    """The explorer's figure for ``function`` as one self-contained HTML file's text, written
    to ``out`` too when given (see :func:`chainrule.explorer.export.export_html`; the command
    line's ``chainrule export-figure``).

    Examples
    --------
    >>> from chainrule.explorer import export_html
    >>> page = export_html("x^2 + 3*y^2", x=1.0, y=1.0, steps=20)
    >>> page.lstrip().lower().startswith("<!doctype html>"), "/vendor/" in page
    (True, False)
    """
    from .export import export_html as _export_html

    return _export_html(function, out, **options)


def __getattr__(name):
    # Explorer needs anywidget (the widget extra): imported when first asked for
    if name == "Explorer":
        from .._extras import require

        require("anywidget", "widget", "the notebook widget chainrule.explorer.Explorer")
        from .widget import Explorer

        return Explorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Explorer", "create_app", "export_html", "show", "show_app"]
