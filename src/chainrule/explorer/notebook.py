"""The explorer in Jupyter: ``show()`` is the :class:`~chainrule.explorer.widget.Explorer`
widget (computed in the kernel, no server); ``show_app()`` frames the whole explorer page,
served by a background server on 127.0.0.1."""

from __future__ import annotations

from ..errors import UserError

_server = None


def server():
    """The notebook's background explorer server, started on first use (one per kernel)."""
    global _server
    if _server is None or not _server.thread.is_alive():
        from .server import BackgroundServer

        _server = BackgroundServer("127.0.0.1", 0)
    return _server


def show(function=None, **options):
    """The :class:`~chainrule.explorer.widget.Explorer` widget for ``function`` (or
    ``fn=``); displayed when it is the last value of a cell.

    Parameters
    ----------
    function : str, optional
        An expression or preset name; ``options`` are Explorer's (``fn``, ``x``, ``y``,
        ``eta``, ``xrange``, ``yrange``, ``paths``, ``resolution``).
    """
    from . import __getattr__ as lazy

    return lazy("Explorer")(function, **options)


def show_app(width="100%", height=1100):
    """The whole explorer page (every tab) in the notebook cell, in a frame.

    It needs the ``explore`` extra and a browser that can reach the kernel's machine
    (127.0.0.1): a local Jupyter, not a remote one like Colab. :func:`show` needs neither.

    Parameters
    ----------
    width, height : str or int
        Size of the frame.

    Returns
    -------
    IPython.display.IFrame
        Displays itself as the cell's output; its ``src`` is the local address.
    """
    try:
        from IPython.display import IFrame
    except ImportError as e:
        raise UserError(
            "show_app() needs IPython: call it inside Jupyter, or open server().url in a browser"
        ) from e
    return IFrame(server().url, width=width, height=height)


def stop() -> None:
    """Stop the notebook's background server, if one is running."""
    global _server
    if _server is not None:
        _server.stop()
        _server = None
