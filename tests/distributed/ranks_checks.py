"""Run by test_mpi.py under ``mpiexec -n 2``: many checks in one launch.

Each rank writes ``rank<r>.json`` into the folder given as argv[1]: for every check, ``ok``
and either its figures or the traceback. Inside a check, every rank runs the same
collectives before anything is compared, so one rank failing a comparison cannot leave
the other waiting.
"""

import json
import sys
import traceback
from pathlib import Path

import numpy as np

import chainrule as cr
from chainrule import distributed as dist
from chainrule.nn.parallel import DistributedDataParallel as DDP

OUT = Path(sys.argv[1])
dist.init_process_group(backend="mpi")
RANK, SIZE = dist.get_rank(), dist.get_world_size()
if SIZE != 2:
    sys.exit(f"ranks_checks.py is written for 2 ranks, launched on {SIZE}")
results = {}
F = cr.nn.functional


def check(fn):
    try:
        results[fn.__name__] = {"ok": True, **(fn() or {})}
    except Exception:
        results[fn.__name__] = {"ok": False, "detail": traceback.format_exc()}
    dist.barrier()
    return fn


def data(rank, dtype, shape=(5, 4)):
    return (np.random.default_rng(rank + 10).normal(size=shape) * 10).astype(dtype)


def raises(fn, kind):
    try:
        fn()
    except kind as e:
        return str(e)
    raise AssertionError(f"{fn} did not raise {kind.__name__}")


# ------------------------------------------------------------------ collectives
@check
def collectives_match_numpy():
    n = 0
    for dt in (np.float16, np.float32, np.float64, np.longdouble, np.int64):
        parts = np.stack([data(r, dt) for r in range(SIZE)])
        wide = parts.astype(np.float32) if dt == np.float16 else parts  # float16 sums in f32
        expected = {"sum": wide.sum(0), "max": parts.max(0), "min": parts.min(0)}
        if dt != np.int64:
            expected["mean"] = wide.sum(0) / SIZE
        for op, want in expected.items():
            a = data(RANK, dt)
            dist.all_reduce(a, op=op)
            want = want.astype(dt)
            assert a.dtype == dt, (dt, op, a.dtype)
            assert np.array_equal(a, want), (dt, op, np.abs(a - want).max())
            n += 1
    t = cr.tensor(data(RANK, np.float32))
    v = t._version
    dist.all_reduce(t, op=dist.ReduceOp.MEAN)
    want = sum(data(r, np.float32) for r in range(SIZE)) / SIZE
    assert t.dtype == np.float32 and np.allclose(t.numpy(), want, rtol=1e-6)
    assert t._version == v + 1
    base = data(RANK, np.float64)
    dist.all_reduce(base[:, ::2])  # a strided view, reduced in place
    assert np.array_equal(base[:, ::2], sum(data(r, np.float64)[:, ::2] for r in range(SIZE)))
    assert np.array_equal(base[:, 1::2], data(RANK, np.float64)[:, 1::2])
    for src in range(SIZE):
        b = data(RANK, np.float64)
        dist.broadcast(b, src=src)
        assert np.array_equal(b, data(src, np.float64))
        tb = cr.tensor(data(RANK, np.float16))
        dist.broadcast(tb, src=src)
        assert np.array_equal(tb.numpy(), data(src, np.float16))
    lst = [np.empty((5, 4)) for _ in range(SIZE)]
    dist.all_gather(lst, data(RANK, np.float64))
    assert all(np.array_equal(lst[r], data(r, np.float64)) for r in range(SIZE))
    tl = [cr.zeros(5, 4) for _ in range(SIZE)]
    dist.all_gather(tl, cr.tensor(data(RANK, np.float64)))
    assert all(np.array_equal(tl[r].numpy(), data(r, np.float64)) for r in range(SIZE))
    objs = [None] * SIZE
    dist.all_gather_object(objs, {"rank": RANK})
    assert objs == [{"rank": r} for r in range(SIZE)]
    msg = raises(lambda: dist.all_gather([np.empty(RANK + 1) for _ in range(SIZE)],
                                         np.zeros(RANK + 1)), dist.DistributedError)
    assert "rank 0 has shape (1,)" in msg and "rank 1 has shape (2,)" in msg, msg
    dist.barrier()
    return {"compared": n}


# ------------------------------------------------------------------------- DDP
def mlp(seed, dtype=np.float64, widths=(3, 8, 8, 2)):
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        if i:
            layers.append(cr.nn.Tanh())
        layers.append(cr.nn.Linear(a, b, dtype=dtype, generator=rng))
    return cr.nn.Sequential(*layers)


def flat(model, what="data"):
    parts = []
    for p in model.parameters():
        v = p.data if what == "data" else (p.grad.data if p.grad is not None else None)
        parts.append(np.zeros(p.data.size) if v is None else v.reshape(-1))
    return np.concatenate(parts)


def same_on_all_ranks(vec):
    every = [np.empty_like(vec) for _ in range(SIZE)]
    dist.all_gather(every, vec)
    return all(np.array_equal(e, vec) for e in every)


def optimizer(name, params):
    if name == "sgd":
        return cr.optim.SGD(params, lr=0.1, momentum=0.9)
    return cr.optim.Adam(params, lr=0.01)


B, STEPS = 16, 20
_rng = np.random.default_rng(123)
XS, YS = _rng.normal(size=(STEPS, B, 3)), _rng.normal(size=(STEPS, B, 2))
MINE = slice(RANK * B // SIZE, (RANK + 1) * B // SIZE)


@check
def ddp_equals_one_process():
    figures = {}
    for name in ("sgd", "adam"):
        for cap in (25, 1e-4):  # one bucket; a bucket per parameter (104-byte cap)
            ref, model = mlp(0), mlp(0 if RANK == 0 else 99)  # rank 1 starts elsewhere
            ddp = DDP(model, bucket_cap_mb=cap)
            assert np.array_equal(flat(model), flat(ref)), "rank 0's parameters not broadcast"
            opt_r, opt_d = optimizer(name, ref.parameters()), optimizer(name, ddp.parameters())
            worst_p = worst_g = 0.0
            identical = True
            for s in range(STEPS):
                opt_r.zero_grad()
                F.mse_loss(ref(cr.tensor(XS[s])), YS[s]).backward()
                opt_r.step()
                opt_d.zero_grad()
                F.mse_loss(ddp(cr.tensor(XS[s][MINE])), YS[s][MINE]).backward()
                worst_g = max(worst_g, np.abs(flat(model, "grad") - flat(ref, "grad")).max())
                opt_d.step()
                worst_p = max(worst_p, np.abs(flat(model) - flat(ref)).max())
                identical &= same_on_all_ranks(flat(model))
            figures[f"{name}_cap{cap}"] = {"param": worst_p, "grad": worst_g,
                                           "identical": bool(identical),
                                           "buckets": len(ddp._buckets)}
            assert identical and worst_p <= 1e-12 and worst_g <= 1e-12, figures
    assert figures["sgd_cap25"]["buckets"] == 1 and figures["sgd_cap0.0001"]["buckets"] == 6
    return {"figures": figures}


@check
def no_sync_accumulates_locally_then_averages():
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(24, 3)), rng.normal(size=(24, 2))
    ref, ddp = mlp(0), DDP(mlp(0))
    for m in range(3):
        F.mse_loss(ref(cr.tensor(X[8 * m:8 * m + 8])), Y[8 * m:8 * m + 8]).backward()
    half = slice(4 * RANK, 4 * RANK + 4)
    with ddp.no_sync():
        for m in range(2):
            rows = slice(8 * m + half.start, 8 * m + half.stop)
            F.mse_loss(ddp(cr.tensor(X[rows])), Y[rows]).backward()
    local_only = not same_on_all_ranks(flat(ddp.module, "grad"))
    rows = slice(16 + half.start, 16 + half.stop)
    F.mse_loss(ddp(cr.tensor(X[rows])), Y[rows]).backward()
    diff = np.abs(flat(ddp.module, "grad") - flat(ref, "grad")).max()
    identical = same_on_all_ranks(flat(ddp.module, "grad"))
    assert local_only and identical and diff <= 1e-12, (local_only, identical, diff)
    return {"grad": diff}


class Heads(cr.nn.Module):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(5)
        self.a = cr.nn.Linear(3, 2, generator=rng)
        self.b = cr.nn.Linear(3, 2, generator=rng)
        self.c = cr.nn.Linear(3, 2, generator=rng)

    def forward(self, x, use_b):
        y = self.a(x)
        return y + self.b(x) if use_b else y


@check
def unused_parameters_as_pytorch():
    x = cr.tensor(XS[1][MINE])
    ddp = DDP(Heads(), find_unused_parameters=True)
    (ddp(x, use_b=RANK == 0) ** 2).sum().backward()
    want = {"a": 0, "b": 0}
    for r in range(SIZE):  # each rank's own gradient, from a plain copy
        plain = Heads()
        xr = cr.tensor(XS[1][r * B // SIZE:(r + 1) * B // SIZE])
        (plain(xr, use_b=r == 0) ** 2).sum().backward()
        want["a"] = want["a"] + plain.a.weight.grad.numpy() / SIZE
        if r == 0:  # only rank 0 uses b; the others count zero
            want["b"] = want["b"] + plain.b.weight.grad.numpy() / SIZE
    m = ddp.module
    da = np.abs(m.a.weight.grad.numpy() - want["a"]).max()
    db = np.abs(m.b.weight.grad.numpy() - want["b"]).max()
    assert da <= 1e-12 and db <= 1e-12, (da, db)
    assert m.c.weight.grad is None and m.c.bias.grad is None  # unused on every rank
    strict = DDP(Heads())
    msg = raises(lambda: (strict(x, use_b=True) ** 2).sum().backward(), dist.DistributedError)
    assert "'c.weight' (and 1 more) got no gradient" in msg and "find_unused_parameters=True" \
        in msg, msg
    return {"message": msg}


@check
def mismatched_models_refused_on_every_rank():
    cases = {
        "shape": mlp(0, widths=(3, 8 + RANK, 2)),
        "dtype": mlp(0, dtype=np.float64 if RANK == 0 else np.float32),
        "count": mlp(0, widths=(3, 8, 2) if RANK == 0 else (3, 8, 2, 2)),
    }
    messages = {}
    for case, model in cases.items():
        messages[case] = raises(lambda m=model: DDP(m), dist.DistributedError)
    every = dist.all_gather_object_list(messages)
    assert all(m == messages for m in every), "the ranks raised different errors"
    assert "rank 0 has parameter '0.weight' of shape (8, 3)" in messages["shape"]
    assert "rank 1 has parameter '0.weight' of shape (9, 3)" in messages["shape"]
    assert "dtype float64" in messages["dtype"] and "dtype float32" in messages["dtype"]
    assert "rank 0 has 4 parameters and buffers, rank 1 has 6" in messages["count"]
    assert "'4.weight'" in messages["count"]
    return {"messages": messages}


@check
def resume_from_rank0_checkpoint():
    ckpt = OUT / "ckpt.npz"

    def steps(ddp, opt, which):
        for s in which:
            opt.zero_grad()
            F.mse_loss(ddp(cr.tensor(XS[s][MINE])), YS[s][MINE]).backward()
            opt.step()

    ddp = DDP(mlp(0))
    opt = optimizer("adam", ddp.parameters())
    steps(ddp, opt, range(5))
    if RANK == 0:
        cr.save({"model": ddp.module.state_dict(), "optim": opt.state_dict()}, ckpt)
    dist.barrier()
    steps(ddp, opt, range(5, 10))
    model2 = mlp(7 + RANK)  # other weights: all must come from the checkpoint
    state = cr.load(ckpt)  # every rank reads rank 0's file
    model2.load_state_dict(state["model"])
    ddp2 = DDP(model2)
    opt2 = optimizer("adam", ddp2.parameters())
    opt2.load_state_dict(state["optim"])
    steps(ddp2, opt2, range(5, 10))
    diff = np.abs(flat(model2) - flat(ddp.module)).max()
    identical = same_on_all_ranks(flat(model2))
    files = sorted(p.name for p in OUT.iterdir() if not p.name.startswith("rank"))
    assert diff == 0 and identical and files == ["ckpt.npz"], (diff, identical, files)
    return {"param": diff}


class WithBuffer(cr.nn.Module):
    """A module with a buffer (state that is not trained), which DDP keeps as rank 0's."""

    def __init__(self):
        super().__init__()
        self.lin = cr.nn.Linear(3, 2)
        self.running = cr.tensor(np.full(2, float(RANK)))

    def named_buffers(self):
        yield "running", self.running

    def forward(self, x):
        self.running.data += 1.0 + RANK  # a rank-local update, as a running statistic's
        return self.lin(x)


@check
def buffers_broadcast_from_rank0():
    ddp = DDP(WithBuffer())
    after_init = ddp.module.running.numpy().copy()
    ddp(cr.tensor(XS[0][MINE]))
    ddp(cr.tensor(XS[0][MINE]))
    got = ddp.module.running.numpy()
    assert np.array_equal(after_init, [0.0, 0.0]), after_init  # rank 0's at construction
    # each forward starts from rank 0's value (1 after the first), then adds 1 + rank
    assert np.array_equal(got, [2.0 + RANK] * 2), got


@check
def compile_refuses_the_allreduce():
    from chainrule.compiler import CompileError

    ddp = DDP(mlp(0))
    opt = optimizer("sgd", ddp.parameters())

    def step(x, y):
        opt.zero_grad()
        F.mse_loss(ddp(x), y).backward()
        opt.step()

    msg = raises(lambda: cr.compile(step)(cr.tensor(XS[0][MINE]), YS[0][MINE]), CompileError)
    assert "DistributedDataParallel's gradient allreduce" in msg, msg
    return {"message": msg}


@check
def sampler_shards_disjoint_and_covering():
    seen = 0
    for n in (12, 13, 1):
        for drop_last in (False, True):
            s = cr.data.DistributedSampler(np.zeros(n), seed=3, drop_last=drop_last)
            assert (s.num_replicas, s.rank) == (SIZE, RANK)
            s.set_epoch(2)
            shards = [set(x) for x in dist.all_gather_object_list(s.indices().tolist())]
            union = set().union(*shards)
            if n % SIZE == 0 or drop_last:
                assert sum(map(len, shards)) == len(union) == n - n % SIZE, (n, shards)
            else:
                assert union == set(range(n)) and all(len(x) == len(s) for x in shards)
            X = np.arange(n * 2).reshape(n, 2)
            batches = list(cr.data.DataLoader(X, batch_size=4, sampler=s))
            got = np.concatenate([b[0] for b in batches]) if batches else np.zeros((0, 2))
            assert np.array_equal(got, X[s.indices()])
            seen += 1
    s = cr.data.DistributedSampler(100, seed=3)
    e0 = s.indices()
    s.set_epoch(1)
    assert not np.array_equal(e0, s.indices())
    return {"cases": seen}


(OUT / f"rank{RANK}.json").write_text(json.dumps(results, default=float))
