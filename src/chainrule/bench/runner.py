"""Timing: interleaved blocks, medians, ratios to hand-written NumPy, a table and JSON."""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

from . import cases as _cases
from . import impls as _impls

IMPLS = {  # column name -> maker; "numpy" is the reference and always runs
    "numpy": _cases.make_numpy,
    "chainrule": _impls.make_chainrule,
    "chainrule compiled": _impls.make_chainrule_compiled,
    "torch": _impls.make_torch,
    "jax jit": _impls.make_jax,
    "sklearn": _impls.make_sklearn,
    "micrograd": _impls.make_micrograd,
}
PEERS = ("torch", "jax jit", "sklearn", "micrograd")


def _time_blocks(fns, rounds, block_s):
    """Median seconds per call of each ``fns[name](i)``, from blocks run in turn."""
    reps = {}
    for name, fn in fns.items():  # calibrate: how many calls fill one block
        t0 = time.perf_counter()
        n = 0
        while True:
            fn(n)
            n += 1
            dt = time.perf_counter() - t0
            if dt > block_s / 4 or n >= 10_000:
                break
        reps[name] = max(1, int(n * block_s / dt))
    samples = {name: [] for name in fns}
    names = list(fns)
    counter = 0
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            fn, n = fns[name], reps[name]
            gc.collect()
            t0 = time.perf_counter()
            for i in range(counter, counter + n):
                fn(i)
            samples[name].append((time.perf_counter() - t0) / n)
            counter += n
    return {name: statistics.median(s) for name, s in samples.items()}


def _peak_memory(step, steps=2):
    step(0)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for i in range(1, steps + 1):
            step(i)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def run_case(case, names, rounds, block_s, check_steps, log):
    """Check that every implementation reaches the same loss, then time them."""
    result = {"title": case.title, "impls": {}, "skipped": {}}
    made = {}
    for name in names:
        try:
            made[name] = IMPLS[name](case)
        except ImportError as e:
            result["skipped"][name] = str(e) or "not installed"
    # 1. same work: N steps from the same weights, then the loss in float64
    tol = 1e-9 if case.dtype == np.float64 else 2e-4
    ref = None
    for name, (step, weights) in made.items():
        for i in range(check_steps):
            step(i)
        loss = _cases.reference_loss(case, weights())
        ref = loss if ref is None else ref
        agrees = abs(loss - ref) <= tol * max(1.0, abs(ref))
        result["impls"][name] = {"loss_after_check": loss, "agrees": bool(agrees)}
        if not agrees:
            log(f"  {case.name}: {name} reaches loss {loss!r}, numpy {ref!r}: not the same work")
    result["check_steps"] = check_steps
    result["losses_agree"] = all(r["agrees"] for r in result["impls"].values())
    # 2. time
    med = _time_blocks({n: s for n, (s, _) in made.items()}, rounds, block_s)
    for name, sec in med.items():
        result["impls"][name]["step_us"] = sec * 1e6
        result["impls"][name]["ratio_numpy"] = sec / med["numpy"]
    # 3. peak memory of a step (Python-visible allocations, which NumPy reports)
    for name in ("numpy", "chainrule", "chainrule compiled"):
        if name in made:
            result["impls"][name]["peak_bytes"] = _peak_memory(made[name][0])
    return result


# -------------------------------------------------------------------- per-op overhead
def _with_a_mode_elsewhere(fn):
    """``fn`` run as if another thread had switched a mode (``no_grad``, say): then every op
    reads this thread's own modes (thread-local) instead of one process-wide flag."""
    from chainrule.graph import defaults

    def run(i):
        defaults.plain = False
        try:
            fn(i)
        finally:
            defaults.plain = defaults.away == 0
    return run


def run_micro(rounds, block_s, peers):
    import chainrule as cr

    a_np, b_np = np.arange(3.0), np.arange(3.0) + 1
    m_np = np.eye(3) + 0.5
    a = cr.tensor(a_np, requires_grad=True)
    b = cr.tensor(b_np, requires_grad=True)
    m = cr.tensor(m_np, requires_grad=True)
    ops = {
        "add": (lambda: np.add(a_np, b_np), lambda: a + b),
        "mul": (lambda: np.multiply(a_np, b_np), lambda: a * b),
        "tanh": (lambda: np.tanh(a_np), lambda: a.tanh()),
        "matmul 3x3": (lambda: np.matmul(m_np, m_np), lambda: m @ m),
    }
    torch_ops = {}
    if "torch" in peers:
        try:
            import torch

            ta, tb = torch.tensor(a_np, requires_grad=True), torch.tensor(b_np, requires_grad=True)
            tm = torch.tensor(m_np, requires_grad=True)
            torch_ops = {"add": lambda: ta + tb, "mul": lambda: ta * tb,
                         "tanh": lambda: ta.tanh(), "matmul 3x3": lambda: tm @ tm}
        except ImportError:
            pass

    def no_grad(fn):
        def run():
            with cr.no_grad():
                return fn()
        return run

    out = {}
    for op, (np_fn, cr_fn) in ops.items():
        fns = {"numpy": np_fn, "chainrule": cr_fn}
        if op in torch_ops:
            fns["torch"] = torch_ops[op]

        def loop(fn, k=100):
            def run(_):
                for _ in range(k):
                    fn()
            return run

        blocks = {n: loop(f) for n, f in fns.items()}
        blocks["chainrule, a mode on elsewhere"] = _with_a_mode_elsewhere(loop(cr_fn))
        timed = _time_blocks(blocks, rounds, block_s)
        with cr.no_grad():
            ng = _time_blocks({"chainrule no_grad": loop(cr_fn)}, rounds, block_s)
        if "torch" in fns:
            import torch

            with torch.no_grad():
                ng.update(_time_blocks({"torch no_grad": loop(fns["torch"])}, rounds, block_s))
        timed.update(ng)
        out[op] = {n: {"us": t / 100 * 1e6, "ratio_numpy": t / timed["numpy"]}
                   for n, t in timed.items()}
    return out


# ---------------------------------------------------------------------- graph scaling
def _time_chain(x, n):
    """Forward and backward times of ``n`` multiplications of ``x`` (chainrule or torch)."""
    t0 = time.perf_counter()
    y = x
    for _ in range(n):
        y = y * 1.0000001
    y = y.sum()
    t1 = time.perf_counter()
    y.backward()
    t2 = time.perf_counter()
    return {"forward_s": t1 - t0, "backward_s": t2 - t1, "backward_us_per_op": (t2 - t1) / n * 1e6}


def run_scaling(sizes, peers, log):
    import chainrule as cr

    out = {}
    for n in sizes:
        row = {}
        gc.collect()
        row["chainrule"] = _time_chain(cr.tensor(np.ones(3), requires_grad=True), n)
        if "torch" in peers and n <= 100_000:
            try:
                import torch
            except ImportError:
                pass
            else:
                row["torch"] = _time_chain(
                    torch.ones(3, dtype=torch.float64, requires_grad=True), n)
        out[str(n)] = row
        log(f"  chain of {n:>9,} ops: chainrule forward {row['chainrule']['forward_s']:.3f} s, "
            f"backward {row['chainrule']['backward_s']:.3f} s "
            f"({row['chainrule']['backward_us_per_op']:.2f} µs/op)")
    return out


# ---------------------------------------------------------------------------- report
def _fmt_us(us):
    if us >= 1000:
        return f"{us / 1000:,.2f} ms"
    return f"{us:,.1f} µs"


def format_table(results):
    cols = list(IMPLS)
    lines = ["| case | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for case in results["cases"].values():
        cells = []
        for c in cols:
            r = case["impls"].get(c)
            if r is None or "step_us" not in r:
                cells.append("—")
            else:
                mark = "" if r["agrees"] else " (loss differs!)"
                cells.append(f"{_fmt_us(r['step_us'])} ({r['ratio_numpy']:.2f}){mark}")
        lines.append(f"| {case['title']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_micro(micro):
    cols = ["numpy", "chainrule", "chainrule no_grad", "torch", "torch no_grad"]
    head = " | per-thread modes cost (a mode on in another thread) |"
    lines = ["| op (3 elements) | " + " | ".join(cols) + head,
             "|---" * (len(cols) + 2) + "|"]
    for op, row in micro.items():
        cells = [f"{row[c]['us']:.2f} µs" if c in row else "—" for c in cols]
        cells.append(_mode_cost(row))
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _mode_cost(row):
    """What reading the per-thread modes costs a recorded op: timed while another thread
    has a mode switched, against the usual case (no thread has: one flag is read)."""
    if "chainrule, a mode on elsewhere" not in row:
        return "—"
    a, b = row["chainrule, a mode on elsewhere"]["us"], row["chainrule"]["us"]
    return f"{(a - b) * 1e3:+.0f} ns ({(a / b - 1) * 100:+.0f}%)"


def format_goals(results):
    """The issue's goals as ratios from this run."""
    cs = results["cases"]
    lines = []

    def ratio(case, a, b):
        try:
            return cs[case]["impls"][a]["step_us"] / cs[case]["impls"][b]["step_us"]
        except KeyError:
            return None

    def mem(case, a):
        try:
            return cs[case]["impls"][a]["peak_bytes"] / cs[case]["impls"]["numpy"]["peak_bytes"]
        except (KeyError, ZeroDivisionError):
            return None

    goals = [
        ("eager 1-3-1 / torch eager", ratio("tiny", "chainrule", "torch"), 0.5),
        ("eager digits / torch eager", ratio("digits", "chainrule", "torch"), 1.0),
        ("eager wide / numpy", ratio("wide", "chainrule", "numpy"), 1.10),
    ]
    for case, title in (("tiny", "1-3-1"), ("digits", "digits"), ("wide", "wide")):
        goals.append((f"compiled {title} / numpy", ratio(case, "chainrule compiled", "numpy"),
                      1.0))
        goals.append((f"compiled {title} / jax jit",
                      ratio(case, "chainrule compiled", "jax jit"), 1.0))
    for case in cs:
        goals.append((f"peak memory {case} eager / numpy", mem(case, "chainrule"), 1.3))
    add = (results.get("micro") or {}).get("add")
    if add:
        goals.append(("recorded a + b / np.add", add["chainrule"]["ratio_numpy"], 2.0))
    sc = results.get("scaling") or {}
    if len(sc) >= 2:
        ns = sorted(sc, key=int)
        per = [sc[n]["chainrule"]["backward_us_per_op"] for n in ns]
        base = 1 if len(ns) > 2 else 0
        goals.append((f"backward µs/op at {int(ns[-1]):,} / at {int(ns[base]):,} ops",
                      per[-1] / per[base], 1.5))
    for name, value, limit in goals:
        if value is None:
            lines.append(f"- {name}: not measured")
        else:
            ok = "met" if value <= limit else "NOT met"
            lines.append(f"- {name}: {value:.2f} (goal ≤ {limit}) {ok}")
    return "\n".join(lines)


def run(quick=False, peers=PEERS, big=False, json_path=None, cases=None, log=print):
    from threadpoolctl import threadpool_info

    rounds, block_s, check_steps = (3, 0.005, 3) if quick else (11, 0.1, 20)
    names = ["numpy", "chainrule", "chainrule compiled"] + [p for p in PEERS if p in peers]
    results = {
        "machine": {"python": sys.version.split()[0], "numpy": np.__version__,
                    "platform": platform.platform(), "cpus": os.cpu_count(),
                    "blas": [{k: i.get(k) for k in ("internal_api", "num_threads", "architecture")}
                             for i in threadpool_info()]},
        "quick": quick, "cases": {},
    }
    makers = {"tiny": _cases.tiny_case, "digits": _cases.digits_case,
              "wide": (lambda: _cases.wide_case(2)) if quick else _cases.wide_case}
    for key, make in makers.items():
        if cases and key not in cases:
            continue
        case = make()
        log(f"case {key}: {case.title}")
        results["cases"][key] = run_case(case, names, rounds, block_s, check_steps, log)
    results["losses_agree"] = all(c["losses_agree"] for c in results["cases"].values())
    log("per-op overhead")
    results["micro"] = run_micro(rounds, block_s / 2, peers)
    log("graph scaling")
    sizes = [1000] if quick else [1000, 10_000, 100_000] + ([1_000_000] if big else [])
    results["scaling"] = run_scaling(sizes, peers, log)
    if json_path:
        os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
        with open(json_path, "w") as f:
            json.dump(results, f, indent=1)
    return results
