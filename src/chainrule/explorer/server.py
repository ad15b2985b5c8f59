"""Running the explorer with uvicorn: in the foreground (the CLI) or in a background thread
(notebooks, tests, the screenshot script)."""

from __future__ import annotations

import socket
import threading
import time

from .._extras import require
from ..errors import UserError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0 picks a free one), or a clear UserError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio switches Nagle's algorithm off (TCP_NODELAY) only on
    # sockets whose proto is IPPROTO_TCP. With proto 0 every reply on a kept-alive
    # connection waited ~40 ms for the browser's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def make_server(sock: socket.socket):
    """A uvicorn server for the explorer app (not yet running) on the bound ``sock``."""
    uvicorn = require("uvicorn", "explore", "the explorer's web server")
    from .app import create_app

    host = sock.getsockname()[0]
    # On IPv4 loopback, refuse other Host headers (DNS rebinding); Starlette strips the port.
    allowed = ["127.0.0.1", "localhost"] if host == "127.0.0.1" else None
    config = uvicorn.Config(create_app(allowed_hosts=allowed), log_level="warning",
                            access_log=False, lifespan="off")
    return uvicorn.Server(config)


class BackgroundServer:
    """The explorer served from a daemon thread; ``url`` to visit, ``stop()`` to end it.

    Parameters
    ----------
    host : str, default "127.0.0.1"
    port : int, default 0 (a free port)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.sock = bind(host, port)
        self.url = url_of(self.sock)
        self.server = make_server(self.sock)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
            name="chainrule-explorer",
        )  # fmt: skip
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the explorer server did not start")
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread to end."""
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
