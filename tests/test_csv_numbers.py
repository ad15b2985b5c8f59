"""The numbers read_csv reads: a strict ASCII grammar, each value as float() gives it."""

import math
import unicodedata

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.data import read_csv
from chainrule.data.csvdata import parse_number

ASCII_NUMBERISH = st.text(alphabet="0123456789+-.eE infINFtyTYaAN\t", max_size=12)
NON_ASCII_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())


def float_or_none(text):
    try:
        return float(text)
    except ValueError:
        return None


def same(a, b):
    return a == b or (math.isnan(a) and math.isnan(b))


@settings(max_examples=2000, deadline=None)
@given(st.one_of(ASCII_NUMBERISH, st.text(max_size=8),
                 st.floats().map(repr), st.floats().map(lambda x: f"{x:.3e}"),
                 st.integers().map(str)))
def test_every_accepted_string_has_the_value_float_gives_it(text):
    ours = parse_number(text)
    if ours is not None:
        theirs = float_or_none(text)
        assert theirs is not None and same(ours, theirs), (text, ours, theirs)


@settings(max_examples=2000, deadline=None)
@given(ASCII_NUMBERISH)
def test_on_ascii_without_underscores_it_takes_what_float_takes(text):
    """So the grammar refuses nothing a plain ASCII number could be."""
    assert (parse_number(text) is None) == (float_or_none(text) is None), text


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from("0123456789"), min_size=2, max_size=6), st.data())
def test_underscores_between_digits_are_refused(digits, data):
    at = data.draw(st.integers(1, len(digits) - 1))
    text = "".join(digits[:at]) + "_" + "".join(digits[at:])
    assert float_or_none(text) is not None  # Python reads it ...
    assert parse_number(text) is None  # ... a CSV of numbers does not


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(NON_ASCII_DIGITS, st.sampled_from("0123456789")), min_size=1,
                max_size=5).filter(lambda cs: any(not c.isascii() for c in cs)))
def test_non_ascii_digits_are_refused(chars):
    text = "".join(chars)
    assert all(unicodedata.decimal(c, None) is not None for c in chars)
    assert float_or_none(text) is not None  # Python reads "١٢٣" and "１２３" as 123
    assert parse_number(text) is None


def test_spellings_read_csv_takes():
    for text, value in [("1", 1.0), ("-1.5e3", -1500.0), ("+.5", 0.5), ("5.", 5.0),
                        (" 2 ", 2.0), ("\t1E-2", 0.01), ("007", 7.0), ("-0", -0.0)]:
        assert parse_number(text) == value and float(text) == value
    assert math.isinf(parse_number("-Infinity")) and math.isnan(parse_number("NaN"))
    for text in ["", ".", "e3", "1e", "1.2.3", "0x10", "1,5", "--1", "in", "nann", "1 2",
                 "\u00a01", "1\u2003"]:
        assert parse_number(text) is None, text


def test_header_of_non_ascii_digits_is_a_header(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("\u0661,1_0\n1,2\n", encoding="utf-8")
    table = read_csv(p)
    assert table.feature_names == ("١", "1_0")
    np.testing.assert_array_equal(table.X, [[1, 2]])
