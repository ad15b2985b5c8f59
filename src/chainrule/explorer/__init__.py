"""The gradient explorer: an interactive page, served locally, whose numbers come from chainrule.

Start it with ``chainrule explore`` (http://127.0.0.1:8050/ by default) or, in Jupyter,
``chainrule.explorer.show()``. The parts:

- :mod:`.parser` — the safe expression grammar (``x^2 + 3*y^2``) compiled to chainrule ops;
  user text is never evaluated as Python.
- :mod:`.functions` — preset surfaces; :mod:`.network` — the 1-3-1 tanh network's error as a
  function of two weights.
- :mod:`.compute` and :mod:`.descent` — gradients, surfaces (one vectorized pass), Hessians,
  the Taylor picture and optimizer paths, independent of HTTP.
- :mod:`.app` — the FastAPI app (JSON API documented at ``/openapi.json``) and the page in
  ``static/``; :mod:`.cli` — the ``chainrule explore`` command; :mod:`.notebook` — ``show()``.

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


def show(width="100%", height=1100):
    """Show the explorer inline in Jupyter (see :func:`chainrule.explorer.notebook.show`).

    Examples
    --------
    >>> import chainrule.explorer
    >>> view = chainrule.explorer.show(height=600)     # the last line of a cell displays it
    >>> view.src.startswith("http://127.0.0.1:")
    True
    >>> chainrule.explorer.notebook.stop()
    """
    from .notebook import show as _show

    return _show(width=width, height=height)


__all__ = ["create_app", "show"]
