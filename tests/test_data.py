"""cr.data: Figure 5.3 problems, digits, CSV reading, splitting and batching."""

import importlib.util

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    FIGURE_5_3,
    FIGURE_5_3_LABELS,
    CSVError,
    DataLoader,
    encode_labels,
    figure_5_3,
    load_digits,
    read_csv,
    train_val_split,
)
from chainrule.errors import UserError

HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None


# ---------------------------------------------------------------- Figure 5.3


FORMULAS = {
    "square": lambda x: x * x,
    "sin": lambda x: np.sin(np.pi * x),
    "abs": lambda x: np.where(x < 0, -x, x),
    "step": lambda x: (x >= 0).astype(x.dtype),
}


@pytest.mark.parametrize("name", FIGURE_5_3)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_figure_5_3_targets_equal_their_formulas(name, dtype):
    x, t = figure_5_3(name, dtype=dtype)
    assert x.shape == (50, 1) and t.shape == (50, 1)
    assert x.dtype == dtype and t.dtype == dtype
    assert np.all((x >= -1) & (x <= 1))
    assert np.all(np.diff(x[:, 0]) >= 0)
    np.testing.assert_array_equal(t, FORMULAS[name](x))


def test_figure_5_3_points_spread_over_the_interval():
    x, _ = figure_5_3("sin", n=2000)
    assert x.min() < -0.99 and x.max() > 0.99
    assert abs(x.mean()) < 0.05  # uniform on [-1, 1] has mean 0, sd 1/sqrt(3)/sqrt(n) ~ 0.013
    counts, _ = np.histogram(x, bins=4, range=(-1, 1))
    assert counts.min() > 400


def test_figure_5_3_step_has_both_levels():
    _, t = figure_5_3("step")
    assert set(np.unique(t)) == {0.0, 1.0}


def test_figure_5_3_seeding():
    a = figure_5_3("abs", seed=3)
    b = figure_5_3("abs", seed=3)
    c = figure_5_3("abs", seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert figure_5_3("square", n=7)[0].shape == (7, 1)


def test_figure_5_3_problems_share_their_inputs_for_one_seed():
    xs = [figure_5_3(name)[0] for name in FIGURE_5_3]
    for x in xs[1:]:
        np.testing.assert_array_equal(x, xs[0])


def test_figure_5_3_labels():
    assert set(FIGURE_5_3_LABELS) == set(FIGURE_5_3)
    assert FIGURE_5_3_LABELS["sin"] == "sin(πx)"


def test_figure_5_3_bad_arguments():
    with pytest.raises(ValueError, match="'cube'.*square, sin, abs, step"):
        figure_5_3("cube")
    with pytest.raises(ValueError, match="positive integer"):
        figure_5_3("sin", n=0)
    with pytest.raises(ValueError, match="floating"):
        figure_5_3("sin", dtype=np.int64)


def test_data_is_reachable_from_the_package():
    assert cr.data.figure_5_3 is figure_5_3


# ---------------------------------------------------------------- digits


@pytest.mark.skipif(not HAS_SKLEARN, reason="needs the data extra (scikit-learn)")
def test_digits_shapes_ranges_and_stratification():
    X_tr, y_tr, X_te, y_te = load_digits()
    assert X_tr.shape[1] == X_te.shape[1] == 64
    assert len(X_tr) + len(X_te) == 1797
    assert len(X_te) == pytest.approx(0.25 * 1797, abs=10)
    assert X_tr.dtype == np.float32 and y_tr.dtype == np.int64
    assert X_tr.min() == 0.0 and X_tr.max() == 1.0
    assert set(np.unique(y_tr)) == set(range(10)) == set(np.unique(y_te))
    # stratified: every class is held out in the same proportion
    tr, te = np.bincount(y_tr, minlength=10), np.bincount(y_te, minlength=10)
    assert np.all(np.abs(te / (tr + te) - 0.25) < 0.02)
    # no image is in both parts
    both = {r.tobytes() for r in X_tr} & {r.tobytes() for r in X_te}
    assert len(both) <= 5  # the set has a few exact duplicate images, nothing more


@pytest.mark.skipif(not HAS_SKLEARN, reason="needs the data extra (scikit-learn)")
def test_digits_seeded_split():
    a, b, c = load_digits(seed=1), load_digits(seed=1), load_digits(seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[3], b[3])
    assert not np.array_equal(a[3], c[3])
    X_tr, _, X_te, _ = load_digits(test_fraction=0.5, dtype=np.float64)
    assert X_tr.dtype == np.float64 and abs(len(X_tr) - len(X_te)) <= 10


def test_digits_without_scikit_learn_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[data\]"') as info:
        load_digits()
    assert isinstance(info.value, UserError)


# ---------------------------------------------------------------- CSV


def write(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_read_csv_good_file(tmp_path):
    p = write(tmp_path, "x1, x2 ,y\n1,2,3\n\n4.5,-5e-1,6\n")
    table = read_csv(p, target="y")
    np.testing.assert_array_equal(table.X, [[1, 2], [4.5, -0.5]])
    np.testing.assert_array_equal(table.y, [3, 6])
    assert table.X.dtype == np.float64 and table.y.dtype == np.float64
    assert table.feature_names == ("x1", "x2") and table.target_name == "y"
    assert table.classes is None and len(table) == 2


def test_read_csv_without_target_and_with_feature_order(tmp_path):
    p = write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n")
    table = read_csv(p)
    assert table.y is None and table.feature_names == ("a", "b", "c")
    np.testing.assert_array_equal(table.X, [[1, 2, 3], [4, 5, 6]])
    table = read_csv(p, features=["c", "a"])
    np.testing.assert_array_equal(table.X, [[3, 1], [6, 4]])


def test_read_csv_class_labels(tmp_path):
    p = write(tmp_path, "w,kind\n1,cat\n2,dog\n3,cat\n4,bird\n")
    table = read_csv(p, target="kind", labels=True)
    assert table.classes == ("bird", "cat", "dog")
    np.testing.assert_array_equal(table.y, [1, 2, 1, 0])
    assert table.y.dtype == np.int64
    assert [table.classes[i] for i in table.y] == ["cat", "dog", "cat", "bird"]
    table = read_csv(p, target="kind", labels=True, classes=["dog", "cat", "bird"])
    np.testing.assert_array_equal(table.y, [1, 0, 1, 2])


def test_read_csv_handles_bom_and_quotes(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes('\ufeff"a",b\n"1",2\n'.encode())
    table = read_csv(p)
    assert table.feature_names == ("a", "b")
    np.testing.assert_array_equal(table.X, [[1, 2]])


BAD_CSV = [
    # (file content, read_csv keywords, row, column, words in the message)
    ("a,b,y\n1,2,3\n4,5\n", {"target": "y"}, 3, "y", "expected 3 fields"),
    ("a,b,y\n1,2,3\n4,5,6,7\n", {"target": "y"}, 3, None, "found 4"),
    ("a,b,y\n1,2,3\n4,abc,6\n", {"target": "y"}, 3, "b", "'abc' is not a number"),
    ("a,b,y\n1,2,3\n\n4,5,six\n", {"target": "y"}, 4, "y", "'six' is not a number"),
    ("a,b,y\n1,,3\n", {"target": "y"}, 2, "b", "empty value"),
    ("a,b,y\n1,nan,3\n", {"target": "y"}, 2, "b", "not a finite number"),
    ("a,b,y\n1,-Infinity,3\n", {"target": "y"}, 2, "b", "'-Infinity' is not a finite number"),
    ("a,b,y\n1,2,3\n4,1_000,6\n", {"target": "y"}, 3, "b", "'1_000' is not a number"),
    ("a,b,y\n1,2,3\n4,5,\u0661\u0662\n", {"target": "y"}, 3, "y", "'١٢' is not a number"),
    ("a,b,y\n\uff11,2,3\n", {"target": "y"}, 2, "a", "'１' is not a number"),
    ("a,b,y\n1,\u00a02,3\n", {"target": "y"}, 2, "b", r"'\xa02' is not a number"),
    ("a,b,y\n1,\u3000,3\n", {"target": "y"}, 2, "b", r"'\u3000' is not a number"),
    ("a,b,y\n1,2,3\n", {"target": "z"}, 1, None, "no target column 'z'; the columns are: 'a', 'b'"),
    ("a,b,y\n1,2,3\n", {"features": ["a", "q"]}, 1, None, "no feature column 'q'"),
    ("a,a,y\n1,2,3\n", {}, 1, None, "'a' appears twice"),
    ("a,,y\n1,2,3\n", {}, 1, None, "column 2 of the header has no name"),
    ("1,2,3\n4,5,6\n", {}, 1, None, "header row"),
    ("a,b,y\n", {"target": "y"}, None, None, "no data rows"),
    ("", {}, None, None, "the file is empty"),
    ("\n\n", {}, None, None, "the file is empty"),
    ("y\n1\n", {"target": "y"}, None, None, "no feature columns"),
    ('a,b\n1,"2\n', {}, 2, None, "malformed CSV"),
    ("a,k\n1,x\n2,y\n", {"target": "k", "labels": True, "classes": ["x"]}, 3, "k", "'y'"),
    ("a,k\n1, \n", {"target": "k", "labels": True}, 2, "k", "empty class label"),
]


@pytest.mark.parametrize("text,kwargs,row,column,words", BAD_CSV)
def test_read_csv_bad_files_name_row_and_column(tmp_path, text, kwargs, row, column, words):
    p = write(tmp_path, text)
    with pytest.raises(CSVError) as info:
        read_csv(p, **kwargs)
    e = info.value
    message = str(e)
    assert isinstance(e, UserError)
    assert "\n" not in message
    assert message.startswith(str(p))
    assert words in message
    assert e.row == row and e.column == column
    if row is not None:
        assert f"row {row}" in message
    if column is not None:
        assert f"column {column!r}" in message


def test_read_csv_missing_file_and_binary_file(tmp_path):
    with pytest.raises(CSVError, match="nope.csv: no such file"):
        read_csv(tmp_path / "nope.csv")
    with pytest.raises(CSVError, match="is a directory"):
        read_csv(tmp_path)
    p = tmp_path / "bin.csv"
    p.write_bytes(b"a,b\n\xff\xfe\x00\x01,2\n")
    with pytest.raises(CSVError, match="UTF-8"):
        read_csv(p)


def test_encode_labels():
    idx, classes = encode_labels(["b", "a", "c", "a"])
    assert classes == ("a", "b", "c")
    np.testing.assert_array_equal(idx, [1, 0, 2, 0])
    idx, classes = encode_labels(["10", "2", "1"])  # numeric labels sort as numbers
    assert classes == ("1", "2", "10")
    np.testing.assert_array_equal(idx, [2, 1, 0])
    idx, classes = encode_labels(np.array([3, 1, 3]))
    assert classes == (1, 3) and idx.dtype == np.int64
    np.testing.assert_array_equal(idx, [1, 0, 1])
    idx, _ = encode_labels(["y", "x"], classes=("x", "y"))
    np.testing.assert_array_equal(idx, [1, 0])
    with pytest.raises(UserError, match="unknown class label 'z'"):
        encode_labels(["z"], classes=("x", "y"))


# ---------------------------------------------------------------- splitting and batching


def test_train_val_split_partitions_the_samples():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    X_tr, y_tr, X_va, y_va = train_val_split(X, y, val_fraction=0.3, seed=1)
    assert len(X_va) == 3 and len(X_tr) == 7
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)  # rows stay paired
    np.testing.assert_array_equal(X_va[:, 0] // 2, y_va)
    assert sorted(np.concatenate([y_tr, y_va]).tolist()) == list(range(10))
    again = train_val_split(X, y, val_fraction=0.3, seed=1)
    np.testing.assert_array_equal(again[3], y_va)
    other = train_val_split(X, y, val_fraction=0.3, seed=2)
    assert not np.array_equal(other[1], y_tr)


def test_train_val_split_stratified_and_tensors():
    y = np.repeat([0, 1], [80, 20])
    _, y_va = train_val_split(cr.tensor(y), val_fraction=0.25, stratify=y)
    assert np.bincount(y_va).tolist() == [20, 5]


def test_train_val_split_errors():
    with pytest.raises(ValueError, match=r"same number of samples.*\[3, 4\]"):
        train_val_split(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(np.zeros(5), val_fraction=1.0)
    with pytest.raises(ValueError, match="cannot split 1"):
        train_val_split(np.zeros(1))
    with pytest.raises(ValueError, match="at least one array"):
        train_val_split()


def epoch_order(loader, index_array_position=0):
    return np.concatenate([batch[index_array_position] for batch in loader])


def test_loader_covers_each_sample_once_per_epoch():
    X = np.arange(23)[:, None] * np.ones((1, 3))
    y = np.arange(23)
    loader = DataLoader(X, y, batch_size=5, seed=0)
    assert len(loader) == 5
    for _ in range(3):
        batches = list(loader)
        assert len(batches) == 5
        assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
        for xb, yb in batches:
            np.testing.assert_array_equal(xb[:, 0], yb)
            assert isinstance(xb, np.ndarray)
        order = np.concatenate([b[1] for b in batches])
        assert sorted(order.tolist()) == list(range(23))


def test_loader_shuffles_reproducibly_and_differently_each_epoch():
    y = np.arange(50)
    a = DataLoader(y, batch_size=8, seed=7)
    b = DataLoader(y, batch_size=8, seed=7)
    epochs_a = [epoch_order(a) for _ in range(3)]
    epochs_b = [epoch_order(b) for _ in range(3)]
    for ea, eb in zip(epochs_a, epochs_b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(epochs_a[0], epochs_a[1])
    assert not np.array_equal(epochs_a[0], y)
    c = DataLoader(y, batch_size=8, seed=8)
    assert not np.array_equal(epoch_order(c), epochs_a[0])


def test_loader_without_shuffle_and_drop_last():
    y = np.arange(10)
    loader = DataLoader(y, batch_size=4, shuffle=False)
    assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    loader = DataLoader(y, batch_size=4, drop_last=True, seed=1)
    assert len(loader) == 2
    batches = [b[0] for b in loader]
    assert [len(b) for b in batches] == [4, 4]
    assert len(set(np.concatenate(batches).tolist())) == 8


def test_loader_accepts_tensors_and_checks_arguments():
    loader = DataLoader(cr.tensor(np.arange(6.0)), batch_size=4, shuffle=False)
    (first,) = next(iter(loader))
    np.testing.assert_array_equal(first, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="same number of samples"):
        DataLoader(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="0-d"):
        DataLoader(np.float64(1.0))
