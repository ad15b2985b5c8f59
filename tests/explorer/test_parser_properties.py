"""Property tests: random well-formed expressions agree with NumPy; gradients with finite
differences. Each generated expression carries its own NumPy evaluation, written here
independently of the parser, and is printed both fully parenthesized and with the fewest
parentheses the grammar's precedence allows."""

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.explorer.parser import Expression

# Precedence levels of the printer: higher binds tighter.
SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 4, 5

FUNCS = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log,
    "sqrt": np.sqrt, "abs": np.abs, "tanh": np.tanh,
}  # fmt: skip
BINARY = {"+": (np.add, SUM), "-": (np.subtract, SUM), "*": (np.multiply, PRODUCT),
          "/": (np.divide, PRODUCT)}  # fmt: skip


class E:
    """A generated expression: its NumPy function and how to print it."""

    def __init__(self, fn, prec, full, minimal):
        self.fn, self.prec, self.full, self.minimal = fn, prec, full, minimal


def wrap(e: E, needed: int) -> str:
    return e.minimal if e.prec >= needed else f"({e.minimal})"


numbers = st.floats(0.0, 5.0, allow_nan=False).map(lambda v: round(v, 3))
leaves = st.one_of(
    st.sampled_from(["x", "y"]).map(lambda n: E((lambda x, y, n=n: x if n == "x" else y),
                                                ATOM, n, n)),
    numbers.map(lambda v: E((lambda x, y, v=v: np.full_like(x, v)), ATOM, repr(v), repr(v))),
    st.just(E(lambda x, y: np.full_like(x, np.pi), ATOM, "pi", "pi")),
)


def binary(op, a: E, b: E) -> E:
    fn, prec = BINARY[op]
    # Left-associative: the right operand needs parentheses at its own level.
    text = f"{wrap(a, prec)} {op} {wrap(b, prec + 1)}"
    return E(lambda x, y: fn(a.fn(x, y), b.fn(x, y)), prec, f"({a.full}) {op} ({b.full})", text)


def call(name, a: E) -> E:
    fn = FUNCS[name]
    return E(lambda x, y: fn(a.fn(x, y)), ATOM, f"{name}({a.full})", f"{name}({a.minimal})")


def neg(a: E) -> E:
    return E(lambda x, y: -a.fn(x, y), UNARY, f"-({a.full})", f"-{wrap(a, UNARY)}")


def power(a: E, k: float, op: str) -> E:
    # Right side of ^ is a unary expression; the left side must bind tighter than ^.
    right = repr(k) if k >= 0 else f"-{repr(-k)}"
    return E(lambda x, y: np.power(a.fn(x, y), k), POWER, f"({a.full}){op}({right})",
             f"{wrap(a, ATOM)}{op}{right}")


def extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(sorted(BINARY)), children, children).map(lambda t: binary(*t)),
        st.tuples(st.sampled_from(sorted(FUNCS)), children).map(lambda t: call(*t)),
        children.map(neg),
        st.tuples(children, st.sampled_from([2.0, 3.0, -1.0, 0.5]),
                  st.sampled_from(["^", "**"])).map(lambda t: power(*t)),
    )


expressions = st.recursive(leaves, extend, max_leaves=12)
# Coordinates under 1e-100 in size are drawn as 0: there x² underflows to 0 while x does not,
# and the chain rule of x^2 / x then gives 2 where finite differences of the float function
# give 1 (PyTorch gives the same 2): floating point, not a property of the parser.
coordinate = st.floats(-2.0, 2.0).map(lambda v: 0.0 if abs(v) < 1e-100 else v)
points = st.tuples(coordinate, coordinate)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


def evaluate(text, x, y):
    xs, ys = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return Expression(text)(cr.tensor(xs), cr.tensor(ys)).numpy()


@SETTINGS
@given(expressions, st.lists(points, min_size=1, max_size=6))
def test_random_expressions_match_numpy(e, pts):
    x = np.array([p[0] for p in pts])
    y = np.array([p[1] for p in pts])
    with np.errstate(all="ignore"):
        expected = e.fn(x, y)
    for text in (e.full, e.minimal):
        got = evaluate(text, x, y)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12, equal_nan=True,
                                   err_msg=text)


@SETTINGS
@given(expressions, points)
def test_random_expression_gradients_match_finite_differences(e, pt):
    x0, y0 = pt
    with np.errstate(all="ignore"):
        f = lambda x, y: float(e.fn(np.float64(x), np.float64(y)))
        f0 = f(x0, y0)
        fd, one_sided = [], []
        for h in (1e-5, 5e-6):  # two step sizes must agree, else the point is not smooth
            fd.append(((f(x0 + h, y0) - f(x0 - h, y0)) / (2 * h),
                       (f(x0, y0 + h) - f(x0, y0 - h)) / (2 * h)))
            # forward vs backward differences differ at a kink (abs at 0)
            one_sided.append(((f(x0 + h, y0) - f0) / h - (f0 - f(x0 - h, y0)) / h,
                              (f(x0, y0 + h) - f0) / h - (f0 - f(x0, y0 - h)) / h))
    fd, one_sided = np.array(fd), np.array(one_sided)
    assume(np.all(np.isfinite(fd)) and np.all(np.abs(fd) < 1e4) and np.isfinite(f0))
    scale = 1.0 + np.abs(fd[1])
    assume(np.all(np.abs(fd[0] - fd[1]) < 1e-6 * scale))
    assume(np.all(np.abs(one_sided) < 1e-2 * scale))
    xt = cr.tensor(np.float64(x0), requires_grad=True)
    yt = cr.tensor(np.float64(y0), requires_grad=True)
    out = Expression(e.minimal)(xt, yt)
    with np.errstate(all="ignore"):  # 0·∞ in a backward step is expected, see below
        gx, gy = cr.grad(out, [xt, yt], allow_unused=True)
    got = np.array([0.0 if gx is None else gx.item(), 0.0 if gy is None else gy.item()])
    # 0·∞ in the chain rule (sqrt(x − x) at any x) is NaN, as in PyTorch, where the finite
    # differences of a constant say 0: not a defined derivative, so not compared.
    assume(np.all(np.isfinite(got)))
    np.testing.assert_allclose(got, fd[1], rtol=1e-5, atol=1e-5 * scale.max(), err_msg=e.minimal)
