"""``chainrule explore``: serve the gradient explorer on this machine and print its address."""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser

from ..errors import UserError

HELP = "serve the interactive gradient explorer on http://127.0.0.1 (local only by default)"
DEFAULT_PORT = 8050


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a whole number, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, got {port}")
    return port


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--open", action="store_true", help="open the page in a web browser")


def run(args: argparse.Namespace) -> int:
    from .server import bind, make_server, url_of

    if not args.host.strip():
        raise UserError("--host must not be empty")
    sock = bind(args.host, args.port)
    url = url_of(sock)
    server = make_server(sock)
    print(f"chainrule explorer: {url}  (Ctrl+C to stop)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}, so other machines may reach it",
              file=sys.stderr)
    if args.open:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    server.run(sockets=[sock])
    return 0
