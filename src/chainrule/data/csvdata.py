"""Reading a user's own table of numbers from a CSV file, with errors naming row and column."""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass

import numpy as np

from ..errors import UserError


class CSVError(UserError):
    """A CSV file that cannot be read as a table of numbers.

    The message is one line naming the file, and where it applies the row (1-based as a
    text editor counts lines; the header is row 1) and the column. The same facts are
    kept in the attributes ``path``, ``row`` and ``column`` (None where not applicable).

    Examples
    --------
    >>> _ = open("houses.csv", "w").write("rooms,area,price\\n3,70.5,210\\n4,four,250\\n")
    >>> cr.data.read_csv("houses.csv", target="price")
    Traceback (most recent call last):
        ...
    chainrule.data.csvdata.CSVError: houses.csv, row 3, column 'area': 'four' is not a number
    """

    def __init__(self, path, reason, row=None, column=None):
        self.path, self.reason, self.row, self.column = path, reason, row, column
        where = str(path)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {reason}")


@dataclass
class Table:
    """The numbers read from a CSV file by :func:`read_csv`.

    Attributes
    ----------
    X : ndarray of float64, shape (n, d)
        The feature columns.
    y : ndarray or None
        The target column, shape (n,): float64, or int64 class indices when read with
        ``labels=True``; None without a target.
    feature_names : tuple of str
        Names of the columns of ``X``, in order.
    target_name : str or None
    classes : tuple of str or None
        With ``labels=True``, the class label of each index (``classes[y[i]]``).
    path : str
        The file read.

    Examples
    --------
    >>> _ = open("houses.csv", "w").write("rooms,area,price\\n3,70.5,210\\n4,80,250\\n")
    >>> table = cr.data.read_csv("houses.csv", target="price")
    >>> table.feature_names, table.X.shape, table.y, len(table)
    (('rooms', 'area'), (2, 2), array([210., 250.]), 2)
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: tuple
    target_name: str | None = None
    classes: tuple | None = None
    path: str = ""

    def __len__(self):
        return len(self.X)


# A number in a CSV file: ASCII digits with an optional sign, decimal point and exponent,
# or inf, infinity or nan in any case (read, then refused as not finite), between ASCII
# blanks. Python's float() takes more: "1_000", Arabic-Indic or fullwidth digits ("١٢٣",
# "１２３") and Unicode spaces, which in a data file are typos or another locale's numbers.
_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))"
)
_BLANKS = " \t\r\n\f\v"


def parse_number(text):
    """The value of ``text`` if it is a number in read_csv's grammar, else None.

    The grammar is ASCII: digits, an optional sign, decimal point and exponent
    (``-1.5e3``), or ``inf``/``infinity``/``nan`` in any case, with blanks around.
    Each string it takes has the value ``float()`` gives it; ``float()`` also takes
    underscores and non-ASCII digits, which this refuses.
    """
    s = text.strip(_BLANKS)
    return float(s) if _NUMBER.fullmatch(s) else None


def _is_number(text):
    return parse_number(text) is not None


def _sort_key(values):
    """Sort numerically when every label reads as a number ("2" before "10"), else as text."""
    if all(not isinstance(v, bool) and _is_number(str(v)) for v in values):
        return lambda v: (parse_number(str(v)), str(v))
    return str


def encode_labels(values, classes=None):
    """Integer class indices for a sequence of labels (strings or integers).

    Parameters
    ----------
    values : sequence of str or int, or 1-d array
        One label per sample.
    classes : sequence, optional
        The known classes, in index order (e.g. saved with a trained model). By default
        the distinct labels, sorted numerically when all are numbers, else as text.

    Returns
    -------
    indices : ndarray of int64, shape (n,)
    classes : tuple
        ``classes[indices[i]] == values[i]``.

    Examples
    --------
    >>> cr.data.encode_labels(["cat", "dog", "cat"])
    (array([0, 1, 0]), ('cat', 'dog'))
    >>> cr.data.encode_labels([2, 10, 2])              # numbers sort as numbers
    (array([0, 1, 0]), (2, 10))
    """
    vals = values.tolist() if isinstance(values, np.ndarray) else list(values)
    if classes is None:
        distinct = set(vals)
        classes = tuple(sorted(distinct, key=_sort_key(distinct)))
    else:
        classes = tuple(classes.tolist() if isinstance(classes, np.ndarray) else classes)
    index = {c: i for i, c in enumerate(classes)}
    if len(index) != len(classes):
        raise UserError(f"classes contain duplicates: {classes}")
    unknown = [v for v in vals if v not in index]
    if unknown:
        raise UserError(
            f"unknown class label {unknown[0]!r}; known classes: "
            + ", ".join(repr(c) for c in classes)
        )
    return np.array([index[v] for v in vals], dtype=np.int64), classes


def _open(path):
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise CSVError(path, "no such file") from None
    except IsADirectoryError:
        raise CSVError(path, "is a directory, not a CSV file") from None
    except OSError as e:
        raise CSVError(path, f"cannot open: {e.strerror or e}") from None


def _read_rows(path, delimiter):
    """All rows as (line number, fields), blank lines skipped."""
    with _open(path) as f:
        reader = csv.reader(f, delimiter=delimiter, strict=True)
        rows = []
        try:
            for fields in reader:
                if fields:
                    rows.append((reader.line_num, fields))
        except csv.Error as e:
            raise CSVError(path, f"malformed CSV: {e}", row=reader.line_num) from None
        except UnicodeDecodeError:
            raise CSVError(path, "not a text file in UTF-8 encoding") from None
    return rows


def _column_index(path, header, name, role):
    if name not in header:
        available = ", ".join(repr(h) for h in header)
        raise CSVError(path, f"no {role} column {name!r}; the columns are: {available}", row=1)
    return header.index(name)


def _number(path, line, column, text):
    if not text.strip(_BLANKS):
        raise CSVError(path, "empty value (missing values are not supported)", line, column)
    value = parse_number(text)
    if value is None:
        raise CSVError(path, f"{text!r} is not a number", line, column)
    if not math.isfinite(value):
        raise CSVError(path, f"{text!r} is not a finite number", line, column)
    return value


def read_csv(path, target=None, *, features=None, labels=False, classes=None, delimiter=","):
    """Read a table of numbers with a header row from a CSV file.

    Parameters
    ----------
    path : str or os.PathLike
        A UTF-8 text file; the first row names the columns. Blank lines are skipped.
    target : str, optional
        Name of the target column, returned as ``y``.
    features : sequence of str, optional
        Names of the feature columns, in the order wanted (e.g. the order a model was
        trained with). By default every column except the target.
    labels : bool, default False
        Read the target as class labels (text or integers) and return int64 class
        indices in ``y`` and the labels in ``classes``.
    classes : sequence of str, optional
        With ``labels=True``, the known classes in index order; a label not among them
        is an error. By default the distinct labels (see :func:`encode_labels`).
    delimiter : str, default ","

    Returns
    -------
    Table
        ``X`` (float64, shape (n, d)), ``y``, ``feature_names``, ``target_name``,
        ``classes``.

    Raises
    ------
    CSVError
        A :class:`~chainrule.errors.UserError` naming the file, row and column: missing
        file, empty file, no header, a row with the wrong number of fields, an empty or
        non-numeric value (numbers as :func:`parse_number` reads them), a missing
        column, an unknown class label.

    Examples
    --------
    >>> text = "length,width,kind\\n5.1,3.5,setosa\\n7.0,3.2,versicolor\\n"
    >>> _ = open("iris.csv", "w").write(text)
    >>> table = cr.data.read_csv("iris.csv", target="kind", labels=True)
    >>> table.X
    array([[5.1, 3.5],
           [7. , 3.2]])
    >>> table.y, table.classes
    (array([0, 1]), ('setosa', 'versicolor'))
    """
    path = os.fspath(path)
    rows = _read_rows(path, delimiter)
    if not rows:
        raise CSVError(path, "the file is empty; expected a header row naming the columns")
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    for j, name in enumerate(header):
        if not name:
            raise CSVError(path, f"column {j + 1} of the header has no name", row=header_line)
        if header.index(name) != j:
            raise CSVError(path, f"column name {name!r} appears twice in the header", header_line)
    if all(_is_number(h) for h in header):
        raise CSVError(
            path,
            "the first row holds numbers; a header row naming the columns is required",
            row=header_line,
        )

    t_col = None if target is None else _column_index(path, header, target, "target")
    if features is None:
        f_cols = [j for j in range(len(header)) if j != t_col]
    else:
        if isinstance(features, str):
            features = [features]
        f_cols = [_column_index(path, header, name, "feature") for name in features]
    if not f_cols:
        raise CSVError(path, f"no feature columns: the file has only the target column {target!r}")

    X, y, y_lines = [], [], []
    for line, fields in rows[1:]:
        if len(fields) != len(header):
            short = len(fields) < len(header)
            raise CSVError(
                path,
                f"expected {len(header)} fields as in the header, found {len(fields)}",
                row=line,
                column=header[len(fields)] if short else None,
            )
        X.append([_number(path, line, header[j], fields[j]) for j in f_cols])
        if t_col is not None:
            if labels:
                label = fields[t_col].strip()
                if not label:
                    raise CSVError(path, "empty class label", line, target)
                y.append(label)
            else:
                y.append(_number(path, line, target, fields[t_col]))
            y_lines.append(line)
    if not X:
        raise CSVError(path, "no data rows after the header")

    X = np.array(X, dtype=np.float64).reshape(len(X), len(f_cols))
    found_classes = None
    if t_col is None:
        y = None
    elif labels:
        if classes is not None:
            known = set(classes)
            for line, label in zip(y_lines, y):
                if label not in known:
                    raise CSVError(
                        path,
                        f"unknown class label {label!r}; known classes: "
                        + ", ".join(repr(c) for c in classes),
                        line,
                        target,
                    )
        y, found_classes = encode_labels(y, classes)
    else:
        y = np.array(y, dtype=np.float64)
    return Table(
        X=X,
        y=y,
        feature_names=tuple(header[j] for j in f_cols),
        target_name=target,
        classes=found_classes,
        path=path,
    )
