"""The explorer inline in Jupyter: a background server on 127.0.0.1 shown in an IFrame."""

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


def show(width="100%", height=1100):
    """Show the explorer in the notebook cell.

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
            "show() needs IPython: call it inside Jupyter, or open server().url in a browser"
        ) from e
    return IFrame(server().url, width=width, height=height)


def stop() -> None:
    """Stop the notebook's background server, if one is running."""
    global _server
    if _server is not None:
        _server.stop()
        _server = None
