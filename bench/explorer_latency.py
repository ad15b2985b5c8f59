"""Round-trip times of the explorer's API over real HTTP (uvicorn on 127.0.0.1).

    python bench/explorer_latency.py [--repeat 50]

Prints the median and 90th percentile, in milliseconds, of: one gradient at a point (what
the page asks for on every mouse move while dragging), a 100×100 surface with and without
its gradient grids (one vectorized forward and backward), the Taylor/Hessian request and a
100-step descent with all five optimizers; and the server's own compute time for each.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import time
from urllib.parse import urlparse

from chainrule.explorer.server import BackgroundServer

BOWL = {"expression": "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2"}
NET = {"network": {"problem": "sin", "wx": "w2_1", "wy": "b2"}}
CASES = [
    ("gradient at a point (Beale)", "/api/point", {"function": BOWL, "x": 1.0, "y": 1.0,
                                                   "direction": 30}),
    ("100×100 surface, F only", "/api/surface", {"function": BOWL, "n": 100}),
    ("100×100 surface, F and ∇F", "/api/surface", {"function": BOWL, "n": 100,
                                                   "gradient": True}),
    ("Taylor picture + Hessian", "/api/taylor", {"function": BOWL, "x": 1.0, "y": 1.0,
                                                 "eta": 0.001}),
    ("descent, 5 methods × 100 steps", "/api/descent",
     {"function": BOWL, "x": 1.0, "y": 1.0, "lr": 0.001, "steps": 100,
      "methods": ["gd", "momentum", "nesterov", "rmsprop", "adam"]}),
    ("network: gradient + fit", "/api/point", {"function": NET, "x": 1.0, "y": 0.0}),
    ("network: 100×100 surface, E and ∇E", "/api/surface", {"function": NET, "n": 100,
                                                            "gradient": True}),
]  # fmt: skip


def measure(conn, path, body, repeat):
    data = json.dumps(body)
    walls, server = [], []
    for i in range(repeat + 2):
        t0 = time.perf_counter()
        conn.request("POST", path, data, {"Content-Type": "application/json"})
        reply = conn.getresponse()
        payload = reply.read()
        wall = 1000 * (time.perf_counter() - t0)
        if reply.status != 200:
            raise SystemExit(f"{path}: HTTP {reply.status}: {payload[:200]!r}")
        if i >= 2:  # the first calls parse, compile and (for the network) train
            walls.append(wall)
            server.append(json.loads(payload)["ms"])
    return walls, server, len(payload)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args(argv)
    with BackgroundServer() as srv:
        url = urlparse(srv.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        print(f"{'request':38} {'round trip ms':>18} {'compute ms':>11} {'reply':>9}")
        print(f"{'':38} {'median':>8} {'p90':>9} {'median':>11} {'bytes':>9}")
        for label, path, body in CASES:
            repeat = max(3, args.repeat // 5) if "descent" in label else args.repeat
            walls, server, size = measure(conn, path, body, repeat)
            p90 = statistics.quantiles(walls, n=10)[-1]
            print(f"{label:38} {statistics.median(walls):8.2f} {p90:9.2f} "
                  f"{statistics.median(server):11.2f} {size:9d}")
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
