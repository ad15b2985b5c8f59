"""cr.distributed and friends in one process (no MPI needed): the single-process world,
input checks, the message without mpi4py, DDP's buckets and unused-parameter rule, and the
sampler's arithmetic for any number of replicas."""

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import distributed as dist
from chainrule.nn.parallel import DistributedDataParallel as DDP
from chainrule.nn.parallel import _make_buckets


@pytest.fixture
def world(monkeypatch):
    """A fresh default group for the test, restored afterwards."""
    monkeypatch.setattr(dist, "_world", None)
    for var in dist._LAUNCHERS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("SLURM_STEP_ID", raising=False)
    return dist


def test_not_initialized_says_what_to_call(world):
    assert not dist.is_initialized()
    for fn in (dist.get_rank, dist.get_world_size, dist.barrier):
        with pytest.raises(dist.DistributedError, match=r"init_process_group\(\) first"):
            fn()
    with pytest.raises(dist.DistributedError, match="init_process_group"):
        DDP(cr.nn.Linear(2, 1))


def test_plain_python_is_a_world_of_one(world, monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # not even needed
    dist.init_process_group(backend="mpi")
    assert dist.is_initialized() and (dist.get_rank(), dist.get_world_size()) == (0, 1)
    a = np.arange(6.0).reshape(2, 3)
    for op in ("sum", "mean", "max", "min"):
        b = a.copy()
        dist.all_reduce(b, op=op)
        assert np.array_equal(b, a)
    t = cr.tensor([1.0, 2.0], dtype=np.float32)
    dist.broadcast(t, src=0)
    out = [np.zeros(2, dtype=np.float32)]
    dist.all_gather(out, t)
    assert np.array_equal(out[0], [1.0, 2.0])
    dist.barrier()
    with pytest.raises(dist.DistributedError, match="already called"):
        dist.init_process_group()
    dist.destroy_process_group()
    assert not dist.is_initialized()


def test_under_a_launcher_without_mpi4py_says_how_to_install(world, monkeypatch):
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    assert dist.launcher() == "Open MPI's mpirun"
    with pytest.raises(dist.DistributedError) as e:
        dist.init_process_group()
    assert 'pip install "chainrule[mpi]"' in str(e.value) and "Open MPI's mpirun" in str(e.value)
    assert not dist.is_initialized()
    assert not dist.is_mpi_available()


@pytest.mark.parametrize("env, name", [
    ({"PMI_SIZE": "4"}, "MPICH's or Intel MPI's mpiexec (or srun --mpi=pmi2)"),
    ({"SLURM_STEP_ID": "0", "SLURM_NTASKS": "4"}, "Slurm's srun"),
    ({"SLURM_STEP_ID": "0", "SLURM_NTASKS": "1"}, None),
])
def test_launchers_are_recognised(world, monkeypatch, env, name):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert dist.launcher() == name


def test_bad_arguments_are_named(world):
    with pytest.raises(dist.DistributedError, match="backend 'nccl' is not available"):
        dist.init_process_group(backend="nccl")
    with pytest.raises(dist.DistributedError, match="world_size=4"):
        dist.init_process_group(world_size=4)
    dist.init_process_group()
    with pytest.raises(ValueError, match="op must be one of 'sum', 'mean', 'max', 'min'"):
        dist.all_reduce(np.ones(2), op="prod")
    with pytest.raises(TypeError, match="needs a floating-point dtype, got int64"):
        dist.all_reduce(np.ones(2, dtype=np.int64), op="mean")
    with pytest.raises(TypeError, match="got list"):
        dist.all_reduce([1.0, 2.0])
    ro = np.ones(2)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        dist.all_reduce(ro)
    with pytest.raises(ValueError, match=r"src must be a rank in 0..0, got 1"):
        dist.broadcast(np.ones(2), src=1)
    with pytest.raises(ValueError, match="list of 1 tensors"):
        dist.all_gather([], np.ones(2))
    with pytest.raises(ValueError, match=r"tensor_list\[0\] has shape \(3,\)"):
        dist.all_gather([np.ones(3)], np.ones(2))


def _net(seed=0):
    rng = np.random.default_rng(seed)
    return cr.nn.Sequential(cr.nn.Linear(3, 4, generator=rng), cr.nn.Tanh(),
                            cr.nn.Linear(4, 2, generator=rng))


def test_ddp_in_a_world_of_one_is_the_plain_model(world):
    dist.init_process_group()
    plain, wrapped = _net(), _net()
    ddp = DDP(wrapped)
    x = np.random.default_rng(1).normal(size=(5, 3))
    plain(cr.tensor(x)).sum().backward()
    ddp(cr.tensor(x)).sum().backward()
    for p, q in zip(plain.parameters(), wrapped.parameters()):
        assert np.array_equal(p.grad.numpy(), q.grad.numpy())
    assert list(ddp.state_dict()) == [f"module.{k}" for k in plain.state_dict()]
    with pytest.raises(TypeError, match="wraps a Module"):
        DDP(lambda x: x)
    with pytest.raises(ValueError, match="bucket_cap_mb must be positive"):
        DDP(_net(), bucket_cap_mb=0)


def test_ddp_names_an_unused_parameter(world):
    dist.init_process_group()
    net = _net()
    ddp = DDP(net)
    with pytest.raises(dist.DistributedError, match=r"parameter '2.weight' \(and 1 more\)"):
        _first_layer_only(ddp)
    loose = DDP(_net(), find_unused_parameters=True)
    _first_layer_only(loose)  # allowed: the unused layer keeps grad None
    assert loose.module[2].weight.grad is None and loose.module[0].weight.grad is not None


def _first_layer_only(ddp):
    ddp(cr.tensor(np.ones((1, 3))))  # marks the reduction as due, like any training forward
    ddp.module[0](cr.tensor(np.ones((1, 3)))).sum().backward()


def test_buckets_cap_group_by_dtype_and_run_backwards(world):
    dist.init_process_group()
    p64 = [cr.nn.Parameter(np.zeros(n)) for n in (10, 10, 10)]  # 80 bytes each
    p32 = [cr.nn.Parameter(np.zeros(4, dtype=np.float32))]
    buckets = _make_buckets(p64 + p32, cap_mb=170 / 2 ** 20)
    layout = [(b.flat.dtype, [p for p, _, _ in b.items]) for b in buckets]
    f64, f32 = np.dtype(np.float64), np.dtype(np.float32)
    assert layout == [(f64, [p64[2], p64[1]]), (f32, p32), (f64, [p64[0]])]  # last layers first
    assert [b.flat.size for b in buckets] == [20, 4, 10]
    half = _make_buckets([cr.nn.Parameter(np.zeros(3, dtype=np.float16))], 25)
    assert half[0].flat.dtype == np.float32  # MPI has no float16: it travels as float32


@pytest.mark.parametrize("n", [0, 1, 7, 12, 13, 100])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_shards(n, replicas, drop_last):
    shards = [cr.data.DistributedSampler(n, replicas, r, seed=5, drop_last=drop_last)
              for r in range(replicas)]
    for s in shards:
        s.set_epoch(3)
    parts = [s.indices() for s in shards]
    assert all(len(p) == len(s) for p, s in zip(parts, shards))
    flat = np.concatenate(parts)
    if drop_last or n % replicas == 0:  # disjoint, covering all but the n % replicas tail
        assert len(set(flat)) == len(flat) == n - n % replicas
    else:  # padded: every index, and replicas - n % replicas of them twice
        assert set(flat) == set(range(n)) and len(flat) == -(-n // replicas) * replicas
    assert set(flat) <= set(range(n))
    again = cr.data.DistributedSampler(n, replicas, 0, seed=5, drop_last=drop_last)
    again.set_epoch(3)
    assert np.array_equal(again.indices(), parts[0])


def test_sampler_epochs_seed_and_order():
    s = cr.data.DistributedSampler(50, 2, 1, seed=1)
    first = s.indices()
    s.set_epoch(1)
    assert not np.array_equal(first, s.indices())
    fixed = cr.data.DistributedSampler(10, 2, 1, shuffle=False)
    assert list(fixed) == [1, 3, 5, 7, 9]
    with pytest.raises(ValueError, match=r"rank must be in 0..1, got 2"):
        cr.data.DistributedSampler(10, 2, 2)
    with pytest.raises(ValueError, match="num_replicas must be an integer"):
        cr.data.DistributedSampler(10, 0, 0)


def test_dataloader_takes_a_sampler():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    s = cr.data.DistributedSampler(X, 3, 2, seed=0, drop_last=True)
    loader = cr.data.DataLoader(X, y, batch_size=2, sampler=s)
    assert len(loader) == 2 and not loader.shuffle
    got = np.concatenate([yb for _, yb in loader])
    assert np.array_equal(got, s.indices())
    with pytest.raises(ValueError, match="sampler and shuffle=True exclude each other"):
        cr.data.DataLoader(X, sampler=s, shuffle=True)
    assert cr.data.DataLoader(X).shuffle  # without a sampler the default is still to shuffle


def test_post_backward_hooks_see_the_leaves_of_each_backward(monkeypatch):
    from chainrule import autograd

    seen = []
    monkeypatch.setattr(autograd, "post_backward_hooks", [lambda leaves: seen.append(leaves)])
    a, b = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor(3.0, requires_grad=True)
    (a * a).sum().backward()
    (a * b).sum().backward(create_graph=True)
    assert [set(map(id, s)) for s in seen] == [{id(a)}, {id(a), id(b)}]
    assert np.array_equal(a.grad.numpy(), [2.0 + 3.0, 4.0 + 3.0])  # hooks run after .grad
