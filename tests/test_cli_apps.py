"""`chainrule demo`, `train` and `predict`, run in-process through the CLI dispatcher."""

import io
import re
import sys

import numpy as np
import pytest

from chainrule import cli
from chainrule.progress import Progress

PNG = b"\x89PNG\r\n\x1a\n"


def run_cli(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def no_matplotlib(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError


# ------------------------------------------------------------------------------ demo
def test_demo_prints_table_gradient_check_and_writes_figure(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    out_dir = tmp_path / "new" / "folder"
    rc, out, err = run_cli(capsys, "demo", "--steps", 300, "--out", out_dir, "--no-progress")
    assert rc == 0, err
    rows = re.findall(r"^(x²|sin\(πx\)|\|x\||H\(x\))\s+300\s+([0-9.]+)\s+([0-9.]+)s$", out, re.M)
    assert [r[0] for r in rows] == ["x²", "sin(πx)", "|x|", "H(x)"]
    assert all(float(r[1]) < 5 for r in rows)  # 300 steps already bring E well down
    diff = float(re.search(r"eqs\. 5\.9-5\.12: (\S+)", out).group(1))
    assert diff <= 1e-12
    figure = out_dir / "figure_5_3.png"
    assert f"Figure written to {figure}" in out
    assert figure.read_bytes()[:8] == PNG


def test_demo_without_matplotlib_says_what_to_install(capsys, tmp_path, no_matplotlib):
    rc, out, err = run_cli(capsys, "demo", "--steps", 20, "--out", tmp_path, "--no-progress")
    assert rc == 0
    assert 'No figure written' in out and 'pip install "chainrule[plot]"' in out
    assert not (tmp_path / "figure_5_3.png").exists()


@pytest.mark.parametrize("args, message", [
    (["--steps", "0"], "--steps must be at least 1, got 0"),
    (["--lr", "-0.1"], "--lr must be a positive number, got -0.1"),
])
def test_demo_bad_arguments(capsys, args, message):
    rc, out, err = run_cli(capsys, "demo", *args)
    assert rc == 2 and message in err and "Traceback" not in err


def test_demo_out_must_be_a_folder(capsys, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    rc, out, err = run_cli(capsys, "demo", "--steps", 5, "--out", f, "--no-progress")
    assert rc == 2 and "exists and is not a folder" in err


def test_demo_progress_bar_goes_to_stderr(capsys, tmp_path):
    rc, out, err = run_cli(capsys, "demo", "--steps", 10, "--out", tmp_path)
    assert rc == 0 and "training" in err and "training" not in out.lower().split("\n")[0][:8]


# ---------------------------------------------------------------------- train/predict
def write_regression(path, n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    with open(path, "w") as f:
        f.write("u,v,target\n")
        for (u, v), t in zip(X, y):
            f.write(f"{u},{v},{t}\n")
    return X, y


def write_classes(path, n=200, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    labels = np.where(X[:, 0] * X[:, 1] > 0, "same", "differ")
    with open(path, "w") as f:
        f.write("species,a,b\n")
        for (a, b), lab in zip(X, labels):
            f.write(f"{lab},{a},{b}\n")
    return labels


def test_train_then_predict_regression(capsys, tmp_path):
    data = tmp_path / "reg.csv"
    X, y = write_regression(data)
    rc, out, err = run_cli(capsys, "train", data, "--target", "target", "--hidden", "16",
                           "--epochs", 60, "--out", tmp_path / "run", "--no-progress")
    assert rc == 0, err
    assert "Trained a 2-16-1 tanh network on 200 rows" in out
    rmse = float(re.search(r"validation RMSE (\S+)", out).group(1))
    assert rmse < 0.1 * y.std()
    model = tmp_path / "run" / "model.npz"
    assert f"Model written to {model}" in out
    if "Loss plot written" in out:
        assert (tmp_path / "run" / "loss.png").read_bytes()[:8] == PNG

    rc, out, err = run_cli(capsys, "predict", model, data)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "target" and len(lines) == 201
    pred = np.array([float(v) for v in lines[1:]])
    assert np.sqrt(np.mean((pred - y) ** 2)) < 0.1 * y.std()
    assert "Against the 'target' column" in err


def test_train_then_predict_classes_with_columns_in_another_order(capsys, tmp_path):
    data = tmp_path / "cls.csv"
    labels = write_classes(data)
    rc, out, err = run_cli(capsys, "train", data, "--target", "species", "--loss",
                           "cross-entropy", "--hidden", "16,16", "--activation", "relu",
                           "--optimizer", "sgd", "--epochs", 40, "--out", tmp_path,
                           "--no-progress")
    assert rc == 0, err
    assert float(re.search(r"validation accuracy ([0-9.]+)%", out).group(1)) >= 85

    reordered = tmp_path / "new.csv"
    rows = data.read_text().splitlines()
    reordered.write_text("\n".join(",".join(reversed(r.split(",")[1:])) for r in rows) + "\n")
    rc, out, err = run_cli(capsys, "predict", tmp_path / "model.npz", reordered,
                           "--out", tmp_path / "pred.csv")
    assert rc == 0, err
    assert "200 predictions written" in out and err == ""  # no species column: no score
    pred = (tmp_path / "pred.csv").read_text().splitlines()
    assert pred[0] == "species" and set(pred[1:]) <= {"same", "differ"}
    assert np.mean(np.array(pred[1:]) == labels) >= 0.85


def test_train_linear_model_and_progress(capsys, tmp_path):
    data = tmp_path / "reg.csv"
    write_regression(data, n=40)
    rc, out, err = run_cli(capsys, "train", data, "--target", "target", "--hidden", "0",
                           "--epochs", 3, "--val-fraction", "0", "--out", tmp_path)
    assert rc == 0, err
    assert "Trained a 2-1 tanh network" in out and "validation" not in out
    assert "training" in err  # the progress bar


BAD_CSV = [
    ("u,v,target\n1,2,3\n4,oops,6\n", "row 3, column 'v': 'oops' is not a number"),
    ("u,v,target\n1,2,3\n4,5\n", "row 3, column 'target': expected 3 fields"),
    ("u,v,target\n1,,3\n", "row 2, column 'v': empty value"),
    ("u,v,y\n1,2,3\n", "no target column 'target'"),
    ("", "the file is empty"),
    ('u,v,target\n1,"2,3\n', "malformed CSV"),
]


@pytest.mark.parametrize("text, message", BAD_CSV)
def test_train_bad_csv_gives_one_line_naming_row_and_column(capsys, tmp_path, text, message):
    data = tmp_path / "bad.csv"
    data.write_text(text)
    rc, out, err = run_cli(capsys, "train", data, "--target", "target", "--no-progress",
                           "--out", tmp_path)
    assert rc == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "model.npz").exists()


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--lr", "0"], "--lr must be a positive number"),
    (["--val-fraction", "1.5"], "--val-fraction must be in [0, 1)"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
])
def test_train_bad_options(capsys, tmp_path, args, message):
    data = tmp_path / "reg.csv"
    write_regression(data, n=20)
    rc, out, err = run_cli(capsys, "train", data, "--target", "target", *args, "--no-progress",
                           "--out", tmp_path)
    assert rc == 2 and message in err


def test_train_classes_need_two_labels_and_few_rows_no_validation(capsys, tmp_path):
    data = tmp_path / "one.csv"
    data.write_text("u,target\n1,a\n2,a\n3,a\n4,a\n5,a\n6,a\n")
    rc, out, err = run_cli(capsys, "train", data, "--target", "target", "--loss",
                           "cross-entropy", "--no-progress", "--out", tmp_path)
    assert rc == 2 and "column 'target' has only one class label" in err
    data.write_text("u,target\n1,2\n2,3\n3,4\n")
    rc, out, err = run_cli(capsys, "train", data, "--target", "target", "--no-progress",
                           "--out", tmp_path)
    assert rc == 2 and "3 rows are too few" in err and "--val-fraction 0" in err


def test_train_missing_file(capsys, tmp_path):
    rc, out, err = run_cli(capsys, "train", tmp_path / "nope.csv", "--target", "y")
    assert rc == 2 and "nope.csv: no such file" in err


def test_predict_errors(capsys, tmp_path):
    data = tmp_path / "reg.csv"
    write_regression(data, n=30)
    rc, out, err = run_cli(capsys, "train", data, "--target", "target", "--epochs", 2,
                           "--no-progress", "--out", tmp_path)
    assert rc == 0, err
    model = tmp_path / "model.npz"

    missing = tmp_path / "missing.csv"
    missing.write_text("u,target\n1,2\n")
    rc, out, err = run_cli(capsys, "predict", model, missing)
    assert rc == 2 and "no feature column 'v'" in err

    bad = tmp_path / "bad.csv"
    bad.write_text("u,v\n1,2\n3,x\n")
    rc, out, err = run_cli(capsys, "predict", model, bad)
    assert rc == 2 and "row 3, column 'v': 'x' is not a number" in err

    rc, out, err = run_cli(capsys, "predict", data, data)  # a CSV is not a model
    assert rc == 2 and "not a chainrule checkpoint" in err

    import chainrule as cr

    other = tmp_path / "weights.npz"
    cr.save({"w": np.zeros(2)}, other)
    rc, out, err = run_cli(capsys, "predict", other, data)
    assert rc == 2 and "not a model saved by `chainrule train`" in err


def test_progress_fallback_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    buf = io.StringIO()
    with Progress(200, desc="work", file=buf) as bar:
        for _ in range(20):
            bar.update(10)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "work:   0% (10/200)" and lines[-1] == "work: 100% (200/200)"
    assert len(lines) == 11  # one line per tenth, not one per update


def test_progress_disabled_prints_nothing(capsys):
    with Progress(5, disable=True) as bar:
        bar.update(5)
    assert capsys.readouterr() == ("", "")
