"""`chainrule bench`: chainrule against hand-written NumPy and every installed peer.

Three training problems (the text's 1-3-1 tanh net, a digits MLP, a wide ReLU MLP), each
run by chainrule eager, chainrule compiled, hand-written NumPy and, when installed, PyTorch,
JAX ``jit``, scikit-learn and micrograd, in one process with interleaved timing blocks.
All start from the same weights and the bench checks they reach the same loss before it
times anything. Prints medians and ratios to NumPy, writes JSON. Peers are optional.
"""

from __future__ import annotations

HELP = "time training steps against hand-written NumPy and installed peers"


def add_arguments(parser):
    parser.add_argument("--quick", action="store_true", help="a few seconds' smoke run")
    parser.add_argument("--big", action="store_true", help="also time a 10^6-op chain")
    parser.add_argument("--peers", default="torch,jax,sklearn,micrograd",
                        help="comma-separated peers to try (default: all installed)")
    parser.add_argument("--cases", default="", help="comma-separated subset of tiny,digits,wide")
    parser.add_argument("--json", default="bench/results/latest.json",
                        help="where to write the results (default: %(default)s)")


def run(args):
    from .runner import format_goals, format_micro, format_table
    from .runner import run as run_bench

    aliases = {"jax": "jax jit", "scikit-learn": "sklearn"}
    peers = tuple(aliases.get(p.strip(), p.strip()) for p in args.peers.split(",") if p.strip())
    cases = [c.strip() for c in args.cases.split(",") if c.strip()] or None
    results = run_bench(quick=args.quick, peers=peers, big=args.big, json_path=args.json,
                        cases=cases)
    print()
    print("Training step, median of interleaved blocks (ratio to hand-written NumPy):")
    print(format_table(results))
    print()
    print("Per-op overhead:")
    print(format_micro(results["micro"]))
    print()
    print("Goals:")
    print(format_goals(results))
    if args.json:
        print(f"\nwrote {args.json}")
    if not results["losses_agree"]:
        print("implementations reached different losses: the timings compare different work")
        return 1
    return 0


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(prog="chainrule bench", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))
