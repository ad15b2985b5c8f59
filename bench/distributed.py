"""Data-parallel costs on this machine: allreduce time against message size, and training
steps per second of the 784-512-512-10 MLP with 1 and 2 processes at one global batch.

    python bench/distributed.py [--quick] [--ranks 2] [--repeat 5] [--json FILE]

It launches itself under ``mpiexec`` (Open MPI: ``--oversubscribe``, and
``--allow-run-as-root`` when root) and prints medians. On a machine with two cores, two
processes already take every core, so the step ratio shows the overhead of the
allreduce and of splitting the batch more than a speed-up; on N machines (or N idle
cores per process) the cost model in the README applies.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

GLOBAL_BATCH = 256
WIDTHS = (784, 512, 512, 10)
PARAMS = sum(a * b + b for a, b in zip(WIDTHS, WIDTHS[1:]))
SIZES = [2 ** k for k in range(10, 27, 2)] + [4 * PARAMS]  # 1 KiB … 64 MiB; the MLP's grads


def _mpiexec(n):
    exe = shutil.which("mpiexec") or shutil.which("mpirun")
    if exe is None:
        sys.exit("bench/distributed.py needs MPI: no mpiexec on PATH")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    cmd = [exe, "-n", str(n)]
    if "Open MPI" in version or "OpenRTE" in version:
        cmd.append("--oversubscribe")
        if os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
    return cmd


def _launch(n, *args, threads=None):
    env = dict(os.environ)
    if threads is not None:  # BLAS threads per process (the 2-core machine has 2 in all)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
    cmd = [*_mpiexec(n), sys.executable, __file__, "--worker", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if r.returncode != 0:
        sys.exit(f"worker failed:\n{r.stdout}\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------- workers
def _slowest(dt):
    """The slowest rank's time: a collective is as slow as its last rank."""
    from chainrule import distributed as dist

    a = np.array([dt])
    dist.all_reduce(a, op="max")
    return float(a[0])


def worker_allreduce(quick):
    from chainrule import distributed as dist

    rows = []
    for nbytes in SIZES:
        buf = np.ones(nbytes // 4, dtype=np.float32)
        reps = max(5, min(200, 2 ** 22 // nbytes) // (4 if quick else 1))
        dist.all_reduce(buf)  # warm: connections, page faults
        times = []
        for _ in range(reps):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(buf)
            times.append(_slowest(time.perf_counter() - t0))
        rows.append({"bytes": nbytes, "seconds": statistics.median(times), "reps": reps})
    return rows


def _mlp(seed=0):
    import chainrule as cr

    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(WIDTHS, WIDTHS[1:])):
        if i:
            layers.append(cr.nn.ReLU())
        layers.append(cr.nn.Linear(a, b, dtype=np.float32, generator=rng))
    return cr.nn.Sequential(*layers)


def worker_steps(quick):
    import chainrule as cr
    from chainrule import distributed as dist

    rank, size = dist.get_rank(), dist.get_world_size()
    model = _mlp()
    net = model if size == 1 else cr.nn.parallel.DistributedDataParallel(model)
    opt = cr.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(GLOBAL_BATCH, WIDTHS[0])).astype(np.float32)
    y = rng.integers(0, WIDTHS[-1], size=GLOBAL_BATCH)
    mine = slice(rank * GLOBAL_BATCH // size, (rank + 1) * GLOBAL_BATCH // size)
    xb, yb = cr.tensor(X[mine]), y[mine]
    reduce_time = [0.0]
    if size > 1:  # time the gradient averaging apart from the rest of the step
        inner = net.reduce_gradients

        def timed(*a):
            t0 = time.perf_counter()
            inner(*a)
            reduce_time[0] += time.perf_counter() - t0

        net.reduce_gradients = timed

    def step():
        opt.zero_grad()
        cr.nn.functional.cross_entropy(net(xb), yb).backward()
        opt.step()

    for _ in range(3):
        step()
    blocks = []
    per_block = 5 if quick else 10
    for _ in range(3 if quick else 7):
        dist.barrier()
        reduce_time[0] = 0.0
        t0 = time.perf_counter()
        for _ in range(per_block):
            step()
        blocks.append((_slowest(time.perf_counter() - t0) / per_block,
                       _slowest(reduce_time[0]) / per_block))
    step_s = statistics.median(b[0] for b in blocks)
    reduce_s = statistics.median(b[1] for b in blocks)
    n_params = sum(p.data.size for p in model.parameters())
    return {"ranks": size, "step_seconds": step_s, "allreduce_seconds": reduce_s,
            "params": int(n_params)}


def _worker(kind, quick):
    from chainrule import distributed as dist

    dist.init_process_group()
    out = worker_allreduce(quick) if kind == "allreduce" else worker_steps(quick)
    if dist.get_rank() == 0:
        print(json.dumps(out))


# ------------------------------------------------------------------------ driver
def _fmt_bytes(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:g} {unit}"
        n /= 1024
    return f"{n:g} TiB"


def _fmt_s(s):
    return f"{s * 1e6:.0f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    ap.add_argument("--ranks", type=int, default=2, help="processes for the parallel runs")
    ap.add_argument("--repeat", type=int, default=5,
                    help="launches of each training configuration, interleaved (median)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--worker", choices=("allreduce", "steps"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    q = ["--quick"] if args.quick else []
    if args.worker:
        return _worker(args.worker, args.quick)

    n = args.ranks
    rows = _launch(n, "allreduce", *q)
    print(f"allreduce, {n} processes on this machine (float32, in place, median):")
    print(f"{'message':>10} {'time':>10} {'bandwidth':>12}")
    for r in rows:
        r["GBps"] = r["bytes"] / r["seconds"] / 1e9
        what = "  (the MLP's gradients)" if r["bytes"] == 4 * PARAMS else ""
        print(f"{_fmt_bytes(r['bytes']):>10} {_fmt_s(r['seconds']):>10} "
              f"{r['GBps']:>9.2f} GB/s{what}")
    grads = rows.pop()
    alpha, big = rows[0]["seconds"], rows[-1]
    bw = big["GBps"]
    print(f"latency α ≈ {_fmt_s(alpha)} (1 KiB), bandwidth B ≈ {bw:.2f} GB/s (64 MiB; "
          "message bytes / time)\n")

    configs = {"1 process": (1, None), "1 process, 1 BLAS thread": (1, 1),
               f"{n} processes, 1 BLAS thread each": (n, 1)}
    launches = {name: [] for name in configs}
    for _ in range(1 if args.quick else args.repeat):  # interleaved: load drifts
        for name, (ranks, threads) in configs.items():
            launches[name].append(_launch(ranks, "steps", *q, threads=threads))
    runs = {}
    for name, results in launches.items():
        runs[name] = dict(results[0])
        for key in ("step_seconds", "allreduce_seconds"):
            runs[name][key] = statistics.median(r[key] for r in results)
        runs[name]["launches"] = len(results)
    base = runs["1 process"]["step_seconds"]
    p = runs["1 process"]["params"]
    print(f"784-512-512-10 ReLU MLP, float32, SGD, global batch {GLOBAL_BATCH} "
          f"({p:,} parameters = {_fmt_bytes(4 * p)} of gradients; median of "
          f"{runs['1 process']['launches']} launches each):")
    for name, r in runs.items():
        extra = ""
        if r["ranks"] > 1:
            extra = f"  (allreduce {_fmt_s(r['allreduce_seconds'])} of it)"
        print(f"  {name:<34} {1 / r['step_seconds']:7.1f} steps/s  "
              f"{_fmt_s(r['step_seconds']):>9}/step  ratio {base / r['step_seconds']:.2f}"
              f"{extra}")
    par = runs[f"{n} processes, 1 BLAS thread each"]
    one = runs["1 process, 1 BLAS thread"]["step_seconds"]
    model = one / n + grads["seconds"]
    print(f"cost model: compute/N + allreduce of 4P bytes = {_fmt_s(one / n)} + "
          f"{_fmt_s(grads['seconds'])} = {_fmt_s(model)}; measured {_fmt_s(par['step_seconds'])}"
          + (" (the rest: ranks waiting for each other on the shared cores)"
             if par["step_seconds"] > 1.2 * model else ""))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"allreduce": rows, "grads": grads, "steps": runs,
                                         "alpha_s": alpha, "bandwidth_GBps": bw,
                                         "model_step_s": model}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
