"""A/B of two source trees in one run: ``python bench/ab.py OLD_SRC NEW_SRC [rounds]``.

Alternates subprocesses with PYTHONPATH set to each tree (old, new, old, new, ...) and
prints per-measure medians, the ratio of the medians new/old, and the median of the
per-round ratios (each round's old and new run back to back, so a slow spell of a shared
machine lands on both) with their quartiles: the recorded per-op overhead of
``a + b`` and ``a.tanh()`` (3-element float64 tensors) and the training step of the
bench cases tiny, digits and wide (chainrule eager, from ``chainrule.bench``), in µs; and
``tiny calls``, the Python calls one tiny step makes (a count, not a timing).
"""

import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, timeit
import numpy as np
import chainrule as cr
from chainrule.bench import cases as C, impls as I
out = {}
a = cr.tensor(np.arange(3.0), requires_grad=True)
b = cr.tensor(np.arange(3.0) + 1, requires_grad=True)
for name, fn in (("a + b", lambda: a + b), ("a.tanh()", lambda: a.tanh())):
    out[name] = min(timeit.repeat(fn, number=20000, repeat=5)) / 20000 * 1e6
for name in ("tiny", "digits", "wide"):
    case = getattr(C, name + "_case")()
    step, _ = I.make_chainrule(case)
    for i in range(3):
        step(i)
    n = {"tiny": 400, "digits": 40, "wide": 20}[name]
    t = min(timeit.repeat(lambda: [step(i) for i in range(n)], number=1, repeat=3)) / n
    out[name] = t * 1e6
    if name == "tiny":  # Python calls per step: a count, the same on every run
        import cProfile, pstats
        prof = cProfile.Profile()
        prof.runcall(lambda: [step(i) for i in range(100)])  # (+2 calls: lambda, range)
        out["tiny calls"] = round(pstats.Stats(prof).total_calls / 100)
print(json.dumps(out))
"""


def main():
    old, new = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    runs = {"old": [], "new": []}
    for r in range(rounds):
        pair = (("old", old), ("new", new))
        for label, src in pair if r % 2 == 0 else pair[::-1]:
            env = dict(os.environ, PYTHONPATH=src, PYTHONHASHSEED="0")
            res = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                                 text=True, check=True)
            runs[label].append(json.loads(res.stdout.strip().splitlines()[-1]))
    print(f"{'measure':12} {'old':>10} {'new':>10} {'new/old':>8} "
          f"{'paired':>8} {'quartiles':>13}")
    for key in runs["old"][0]:
        o = statistics.median(x[key] for x in runs["old"])
        n = statistics.median(x[key] for x in runs["new"])
        ratios = [b[key] / a[key] for a, b in zip(runs["old"], runs["new"])]
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        print(f"{key:12} {o:10.2f} {n:10.2f} {n / o:8.3f} {statistics.median(ratios):8.3f} "
              f"{q[0]:6.3f}-{q[2]:.3f}")


if __name__ == "__main__":
    main()
