"""The explorer's expression grammar: structure, values, gradients, errors, hostile input."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import UserError
from chainrule.explorer import parser
from chainrule.explorer.parser import Expression, ExpressionError, parse


def value(text, x=0.7, y=-1.3):
    return float(Expression(text)(cr.tensor(x), cr.tensor(y)).item())


def gradient(text, x, y):
    xt = cr.tensor(np.float64(x), requires_grad=True)
    yt = cr.tensor(np.float64(y), requires_grad=True)
    gx, gy = cr.grad(Expression(text)(xt, yt), [xt, yt], allow_unused=True)
    return (0.0 if gx is None else gx.item()), (0.0 if gy is None else gy.item())


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("2 ^ 3 ^ 2", 512.0),  # right-associative
        ("2 ** 3 ** 2", 512.0),
        ("-2 ^ 2", -4.0),  # power binds tighter than unary minus
        ("(-2) ^ 2", 4.0),
        ("2 ^ -1", 0.5),
        ("8 / 4 / 2", 1.0),  # left-associative
        ("8 - 4 - 2", 2.0),
        ("--3", 3.0),
        ("+3", 3.0),
        ("pi", math.pi),
        ("e", math.e),
        ("2e3", 2000.0),
        (".5", 0.5),
        ("1.5E-1", 0.15),
        ("sqrt(16) + abs(-3) + exp(0) + log(e)", 9.0),
        ("sin(pi/2) + cos(0) + tan(0) + tanh(0)", 2.0),
    ],
)
def test_constant_expressions(text, expected):
    assert value(text) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "text, reference",
    [
        ("x^2 + 3*y^2", lambda x, y: x**2 + 3 * y**2),
        ("sin(x)*cos(y)", lambda x, y: np.sin(x) * np.cos(y)),
        ("x*y - x/y", lambda x, y: x * y - x / y),
        ("exp(-(x^2 + y^2))", lambda x, y: np.exp(-(x**2 + y**2))),
        ("(1 - x)^2 + 100*(y - x^2)^2", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2),
        ("abs(x) + sqrt(x^2 + y^2) + log(1 + x^2)",
         lambda x, y: abs(x) + np.sqrt(x**2 + y**2) + np.log(1 + x**2)),
        ("x^y", lambda x, y: x**y),
        ("2^x", lambda x, y: 2.0**x),
        ("tanh(x*y)", lambda x, y: np.tanh(x * y)),
    ],
)
def test_values_match_numpy(text, reference):
    for x, y in [(0.7, 1.3), (1.9, 0.4), (2.5, 2.2)]:
        assert value(text, x, y) == pytest.approx(reference(x, y), rel=1e-12)


def test_gradients_match_closed_forms():
    # ∇(x² + 3y²) = (2x, 6y)
    assert gradient("x^2 + 3*y^2", 1.5, -2.0) == pytest.approx((3.0, -12.0), rel=1e-12)
    # ∇(sin x cos y) = (cos x cos y, −sin x sin y)
    x, y = 0.3, 1.1
    assert gradient("sin(x)*cos(y)", x, y) == pytest.approx(
        (math.cos(x) * math.cos(y), -math.sin(x) * math.sin(y)), rel=1e-12
    )
    # ∇(x^y) = (y x^(y−1), x^y ln x)
    x, y = 1.7, 2.3
    assert gradient("x^y", x, y) == pytest.approx(
        (y * x ** (y - 1), x**y * math.log(x)), rel=1e-12
    )
    # A constant has zero gradient and the right shape.
    f = Expression("3")(cr.tensor(np.zeros((2, 3))), cr.tensor(np.zeros((2, 3))))
    assert f.shape == (2, 3) and np.all(f.numpy() == 3.0)
    assert gradient("pi", 1.0, 2.0) == (0.0, 0.0)


def test_elementwise_on_grids():
    xs, ys = np.meshgrid(np.linspace(-2, 2, 7), np.linspace(-1, 3, 5))
    out = Expression("x^2 + 3*y^2")(cr.tensor(xs), cr.tensor(ys)).numpy()
    np.testing.assert_allclose(out, xs**2 + 3 * ys**2, rtol=1e-14)
    only_x = Expression("sin(x)")(cr.tensor(xs), cr.tensor(ys)).numpy()
    assert only_x.shape == xs.shape


def test_tree_records_columns():
    tree = parse("x + sin(y)")
    assert tree.kind == "+" and tree.column == 3
    assert tree.args[1].kind == "call" and tree.args[1].value == "sin"
    assert tree.args[1].column == 5
    assert tree.args[1].args[0].column == 9


@pytest.mark.parametrize(
    "text, column, words",
    [
        ("(x + y))", 8, "unexpected ')'"),
        ("x + )", 5, "unexpected ')'"),
        ("sin(x", 6, "missing ')'"),
        ("x +", 4, "end of expression"),
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ("2x", 2, "write 2*x"),
        ("foo(x)", 1, "unknown name 'foo'"),
        ("sin x", 5, "'(' after sin"),
        ("x $ y", 3, "character '$'"),
        ("x % 2", 3, "character '%'"),
        ("sin(x, y)", 6, "one argument"),
        ("x.real", 2, "attribute"),
        ("x\x00", 2, "NUL byte"),
        ("x\u200by", 2, "U+200B"),
        ("٣", 1, "character"),
        ("1e400", 1, "too large"),
        ("x^100", 2, "exponent 100 too large"),
        ("x^(1/0)", 2, "not a finite number"),
        ("9**9**9", 2, "exponent"),
        ("2.5.5", 4, "unexpected '.5'"),
    ],
)
def test_errors_name_the_column(text, column, words):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    err = info.value
    assert err.column == column
    assert words in str(err)
    assert str(err).endswith(f"at column {column}")
    assert isinstance(err, UserError)


HOSTILE = [
    "__import__('os').system('echo hacked')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "lambda: 1",
    "exec('1')",
    "eval('x')",
    "open('/etc/passwd').read()",
    "globals()",
    "x if y else 0",
    "[x for x in range(10)]",
    "x; import os",
    "9**9**9",
    "9^9^9^9",
    "2**1000",
    "10**(10**10)",
    "x" * 100_000,
    "(" * 1000 + "x" + ")" * 1000,
    "-" * 1000 + "x",
    "x^" * 200 + "2",
    "sin(" * 100 + "x" + ")" * 100,
    "x\x00",
    "\x00",
    "'a'",
    "x@y",
    "x // y",
    "{x}",
    "\\x41",
    "x\n+ y",
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_are_refused_with_a_message(text):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert str(info.value)
    assert len(str(info.value)) < 300  # the message does not echo a huge input


def test_limits_of_size_and_depth():
    ok = "+".join(["x"] * 200)  # long but shallow: fine
    assert value(ok, 1.0, 0.0) == 200.0
    with pytest.raises(ExpressionError, match="too long"):
        parse("x+" * 300 + "x")
    nested = "(" * parser.MAX_DEPTH + "x" + ")" * parser.MAX_DEPTH
    parse(nested)
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("(" + nested + ")")
    with pytest.raises(ExpressionError, match="too large"):
        parse("x*" * 240 + "x")  # more than MAX_NODES parts in under MAX_LENGTH characters


def test_non_text_is_refused():
    with pytest.raises(ExpressionError, match="must be text"):
        parse(b"x")


def test_values_outside_the_domain_are_nan_not_errors():
    assert math.isnan(value("log(x)", -1.0, 0.0))
    assert math.isnan(value("sqrt(x)", -1.0, 0.0))
    assert value("1/x", 0.0, 0.0) == math.inf
    assert math.isnan(value("(-8)^(1/3)"))


def test_compile_expression_is_cached():
    a = parser.compile_expression("x^2 + y")
    assert parser.compile_expression("x^2 + y") is a
    with pytest.raises(ExpressionError):
        parser.compile_expression("x^^2")
