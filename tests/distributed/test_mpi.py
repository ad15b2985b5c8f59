"""cr.distributed, DistributedDataParallel, DistributedSampler and `chainrule train` under
real MPI: a few ``mpiexec -n 2`` launches, each doing many checks (see ranks_checks.py).

Skipped with a reason when ``mpiexec`` or ``mpi4py`` is missing (``.ci/run`` installs Open
MPI and ``chainrule[mpi]``).
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli

HERE = Path(__file__).parent
SRC = str(Path(cr.__file__).resolve().parents[1])
TIMEOUT = 180  # a launch that hangs fails here instead of blocking the suite
RANKS = 2


def _launcher():
    exe = shutil.which("mpiexec") or shutil.which("mpirun")
    if exe is None:
        pytest.skip("MPI is not installed (no mpiexec on PATH; Debian: apt-get install "
                    "openmpi-bin libopenmpi-dev)")
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip('mpi4py is not installed (pip install "chainrule[mpi]")')
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    openmpi = "Open MPI" in version or "OpenRTE" in version
    cmd = [exe, "-n", str(RANKS)]
    if openmpi:
        cmd.append("--oversubscribe")
        if os.geteuid() == 0:
            cmd.append("--allow-run-as-root")
    return cmd, openmpi


def launch(argv, cwd, timeout=TIMEOUT, extra=(), env=None):
    cmd, _ = _launcher()
    env = dict(os.environ, **(env or {}),
               PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([*cmd, *extra, sys.executable, *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def mpi(tmp_path_factory):
    """The launcher, once it has shown that mpi4py runs two ranks here."""
    cmd, openmpi = _launcher()
    probe = "from mpi4py import MPI; assert MPI.COMM_WORLD.Get_size() == 2"
    r = launch(["-c", probe], tmp_path_factory.mktemp("probe"), timeout=120)
    if r.returncode != 0:
        pytest.skip(f"mpi4py cannot run {RANKS} ranks here: {(r.stderr or r.stdout)[-400:]}")
    return openmpi


@pytest.fixture(scope="module")
def checks(mpi, tmp_path_factory):
    out = tmp_path_factory.mktemp("checks")
    r = launch([HERE / "ranks_checks.py", out], out)
    assert r.returncode == 0, r.stdout + r.stderr
    return [json.loads((out / f"rank{k}.json").read_text()) for k in range(RANKS)]


CHECKS = [
    "collectives_match_numpy",
    "ddp_equals_one_process",
    "no_sync_accumulates_locally_then_averages",
    "unused_parameters_as_pytorch",
    "mismatched_models_refused_on_every_rank",
    "resume_from_rank0_checkpoint",
    "compile_refuses_the_allreduce",
    "buffers_broadcast_from_rank0",
    "sampler_shards_disjoint_and_covering",
]


@pytest.mark.parametrize("name", CHECKS)
def test_under_mpi(checks, name):
    for rank, res in enumerate(checks):
        assert name in res, f"rank {rank} did not run {name}"
        assert res[name]["ok"], f"rank {rank}:\n{res[name]['detail']}"


def test_ddp_figures_are_at_rounding_level(checks):
    """2 ranks × batch 8 against one process × batch 16, after each of 20 steps (float64)."""
    figures = checks[0]["ddp_equals_one_process"]["figures"]
    assert set(figures) == {"sgd_cap25", "sgd_cap0.0001", "adam_cap25", "adam_cap0.0001"}
    for f in figures.values():
        assert f["identical"] and f["param"] <= 1e-12 and f["grad"] <= 1e-12


@pytest.mark.parametrize("mode, message, code", [
    ("raise", "ValueError: rank one broke on purpose", 1),
    ("sigint", "KeyboardInterrupt", 130),
])
def test_a_failing_rank_ends_the_job_with_its_error(mpi, tmp_path, mode, message, code):
    # Rank 0 waits in an allreduce that rank 1 never joins: without the abort the job
    # would hang until the timeout (it ends in about 2 s here).
    r = launch([HERE / "ranks_fail.py", mode], tmp_path, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == code, out
    assert "rank 1 of 2 failed; ending the job" in out and message in out, out
    assert "rank 0 was not ended" not in out


def _table(path, n=180, labels=False):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(n, 3))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    if labels:
        y = np.array(["low", "mid", "high"])[(y > -0.5).astype(int) + (y > 0.5)]
    path.write_text("a,b,c,y\n" + "".join(f"{a},{b},{c},{t}\n" for (a, b, c), t in zip(X, y)))


@pytest.mark.parametrize("loss", ["mse", "cross-entropy"])
def test_cli_train_on_two_ranks_gives_the_one_process_model(mpi, tmp_path, capsys, loss):
    _table(tmp_path / "data.csv", labels=loss == "cross-entropy")
    args = ["train", "data.csv", "--target", "y", "--epochs", "6", "--batch-size", "25",
            "--hidden", "8,8", "--seed", "3", "--loss", loss]  # 144 rows: 13/12, ..., 11/11
    shape = "3-8-8-1" if loss == "mse" else "3-8-8-3"
    extra = ["--output-filename", tmp_path / "logs"] if mpi else []
    r = launch([HERE / "ranks_cli.py", *args, "--out", "two"], tmp_path, extra=extra)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "saves-rank0.txt").read_text() == "model.npz\n"
    assert not (tmp_path / "saves-rank1.txt").exists()  # rank 0 alone writes the model
    assert r.stdout.count(f"Trained a {shape} tanh network") == 1
    assert "data-parallel on 2 processes" in r.stdout
    if mpi:  # Open MPI wrote each rank's output apart: rank 1 printed nothing
        logs = {p.parent.name: p.read_text() for p in (tmp_path / "logs").rglob("std*")
                if p.name in ("stdout", "stderr")}
        rank1 = "".join(v for k, v in logs.items() if k.endswith(".1"))
        assert "training" not in rank1 and "Trained" not in rank1, logs
        assert "training" in "".join(v for k, v in logs.items() if k.endswith(".0"))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert cli.main([*args, "--out", "one", "--no-progress"]) == 0
    finally:
        os.chdir(cwd)
    capsys.readouterr()
    written = sorted(p.name for p in (tmp_path / "two").iterdir())
    assert "model.npz" in written and not [w for w in written if "tmp" in w], written
    one, two = (cr.load(tmp_path / d / "model.npz")["state"] for d in ("one", "two"))
    diff = max(float(np.abs(np.asarray(one[k]) - np.asarray(two[k])).max()) for k in one)
    assert diff <= 1e-12, diff


def test_cli_error_on_one_rank_ends_the_job(mpi, tmp_path):
    # Rank 0 goes on into training and waits for rank 1 in the model check; rank 1's
    # error (exit status 2, as in one process) must end both.
    _table(tmp_path / "data.csv")
    r = launch([HERE / "ranks_cli.py", "train", "data.csv", "--target", "y", "--epochs", "2"],
               tmp_path, timeout=60, env={"FAIL_ON_RANK1": "1"})
    assert r.returncode == 2, r.stdout + r.stderr
    assert "chainrule train: error: rank 1 cannot read the file (on purpose)" in r.stderr
    assert not (tmp_path / "model.npz").exists()


def test_the_readme_script_runs_on_two_ranks(mpi, tmp_path):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("## Training on several processes"):]
    code = section[section.index("```python\n") + 10:]
    code = code[:code.index("```")]
    (tmp_path / "script.py").write_text(code)
    r = launch([tmp_path / "script.py"], tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    state = cr.load(tmp_path / "ckpt.npz")
    assert set(state["model"]) == {"0.weight", "0.bias", "2.weight", "2.bias"}
