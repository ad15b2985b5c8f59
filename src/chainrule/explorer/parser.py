"""A small, safe grammar for functions of ``x`` and ``y``, compiled to chainrule ops.

User text is tokenized and parsed by the recursive-descent parser below; it is never handed
to Python's ``eval``, ``compile`` or ``ast``. The grammar (``^`` and ``**`` are the same
operator, right-associative, binding tighter than unary minus, so ``-x^2`` is ``-(x^2)``)::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := ('+' | '-') unary | power
    power   := atom (('^' | '**') unary)?
    atom    := NUMBER | 'x' | 'y' | 'pi' | 'e' | FUNC '(' expr ')' | '(' expr ')'
    FUNC    := sin | cos | tan | exp | log | sqrt | abs | tanh

Errors are :class:`ExpressionError` (a :class:`~chainrule.errors.UserError`) carrying the
1-based ``column`` of the offending character, e.g. ``unexpected ')' at column 7``.
Limits keep hostile input cheap: length, nesting depth, number of nodes, the size of
number literals and of constant exponents (``9**9**9`` is refused, not computed).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import UserError

MAX_LENGTH = 500
MAX_DEPTH = 40
MAX_NODES = 400
MAX_LITERAL = 1e6
MAX_EXPONENT = 64.0

FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh")
CONSTANTS = {"pi": math.pi, "e": math.e}
VARIABLES = ("x", "y")

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NAME = re.compile(r"[A-Za-z]+")
_SYMBOLS = ("**", "+", "-", "*", "/", "^", "(", ")")


class ExpressionError(UserError):
    """A malformed or refused expression; ``column`` is 1-based (None for whole-text errors)."""

    def __init__(self, message: str, column: int | None = None):
        self.reason = message
        self.column = column
        super().__init__(message if column is None else f"{message} at column {column}")


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "name", "op", "end"
    text: str
    column: int  # 1-based


@dataclass(frozen=True)
class Node:
    """A node of the parsed expression: ``kind`` is num, var, call, neg, or a binary operator."""

    kind: str  # "num", "var", "call", "neg", "+", "-", "*", "/", "^"
    value: float | str | None = None  # number, variable name or function name
    args: tuple[Node, ...] = ()
    column: int = 0

    def is_constant(self) -> bool:
        """True when the subtree mentions neither ``x`` nor ``y``."""
        if self.kind == "var":
            return False
        return all(a.is_constant() for a in self.args)


def _describe(ch: str) -> str:
    if ch == "\x00":
        return "NUL byte"
    if ch.isprintable() and not ch.isspace():
        return f"character {ch!r}"
    return f"character U+{ord(ch):04X}"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, refusing any character outside the grammar."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
            continue
        col = i + 1
        m = _NUMBER.match(text, i)
        if m:
            tokens.append(Token("num", m.group(), col))
            i = m.end()
            continue
        m = _NAME.match(text, i)
        if m:
            tokens.append(Token("name", m.group(), col))
            i = m.end()
            continue
        sym = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
        if sym is None:
            hint = ""
            if ch == "_":
                hint = " (only x, y, pi, e and the functions " + ", ".join(FUNCTIONS) + ")"
            elif ch == ".":
                hint = " (no attribute access; numbers look like 1.5)"
            elif ch == ",":
                hint = " (every function takes one argument)"
            raise ExpressionError(f"unexpected {_describe(ch)}{hint}", col)
        tokens.append(Token("op", sym, col))
        i += len(sym)
    tokens.append(Token("end", "", n + 1))
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.nodes = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def node(self, kind, value=None, args=(), column=0) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"expression too large (more than {MAX_NODES} parts)", column)
        return Node(kind, value, tuple(args), column)

    def enter(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"nested too deeply (limit {MAX_DEPTH})", tok.column)

    def unexpected(self, tok: Token, wanted: str = "") -> ExpressionError:
        if tok.kind == "end":
            what = "end of expression"
            if wanted:
                what += f" (expected {wanted})"
            return ExpressionError(what, tok.column)
        extra = f" (expected {wanted})" if wanted else ""
        return ExpressionError(f"unexpected {tok.text!r}{extra}", tok.column)

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ExpressionError("empty expression", 1)
        node = self.expr()
        tok = self.peek()
        if tok.kind == "end":
            return node
        prev = self.tokens[self.pos - 1]
        juxtaposed = tok.kind == "name" or tok.text == "("
        if juxtaposed and (prev.kind in ("num", "name") or prev.text == ")"):
            raise ExpressionError(
                f"unexpected {tok.text!r} (write {prev.text}*{tok.text} to multiply)", tok.column
            )
        raise self.unexpected(tok)

    def expr(self) -> Node:
        left = self.term()
        while self.peek().text in ("+", "-") and self.peek().kind == "op":
            op = self.take()
            left = self.node(op.text, args=(left, self.term()), column=op.column)
        return left

    def term(self) -> Node:
        left = self.unary()
        while self.peek().text in ("*", "/") and self.peek().kind == "op":
            op = self.take()
            left = self.node(op.text, args=(left, self.unary()), column=op.column)
        return left

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("+", "-"):
            self.take()
            self.enter(tok)
            operand = self.unary()
            self.depth -= 1
            if tok.text == "+":
                return operand
            return self.node("neg", args=(operand,), column=tok.column)
        return self.power()

    def power(self) -> Node:
        base = self.atom()
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("^", "**"):
            self.take()
            self.enter(tok)
            exponent = self.unary()
            self.depth -= 1
            if exponent.is_constant():
                value = constant_value(exponent)
                if not math.isfinite(value):
                    raise ExpressionError("exponent is not a finite number", tok.column)
                if abs(value) > MAX_EXPONENT:
                    raise ExpressionError(
                        f"exponent {value:g} too large (limit ±{MAX_EXPONENT:g})", tok.column
                    )
            return self.node("^", args=(base, exponent), column=tok.column)
        return base

    def atom(self) -> Node:
        tok = self.take()
        if tok.kind == "num":
            value = float(tok.text)
            if not value <= MAX_LITERAL:
                raise ExpressionError(f"number {tok.text} too large (limit {MAX_LITERAL:g})",
                                      tok.column)
            return self.node("num", value, column=tok.column)
        if tok.kind == "name":
            name = tok.text
            if name in VARIABLES:
                return self.node("var", name, column=tok.column)
            if name in CONSTANTS:
                return self.node("num", CONSTANTS[name], column=tok.column)
            if name in FUNCTIONS:
                if self.peek().text != "(":
                    raise self.unexpected(self.peek(), f"'(' after {name}")
                self.take()
                self.enter(tok)
                arg = self.expr()
                self.close(tok)
                return self.node("call", name, (arg,), column=tok.column)
            allowed = ", ".join(VARIABLES + tuple(CONSTANTS) + FUNCTIONS)
            raise ExpressionError(f"unknown name {name!r} (allowed: {allowed})", tok.column)
        if tok.kind == "op" and tok.text == "(":
            self.enter(tok)
            inner = self.expr()
            self.close(tok)
            return inner
        raise self.unexpected(tok, "a number, x, y, a function or '('")

    def close(self, opener: Token) -> None:
        tok = self.peek()
        if tok.kind == "op" and tok.text == ")":
            self.take()
            self.depth -= 1
            return
        if tok.kind == "end":
            raise ExpressionError(f"missing ')' (opened at column {opener.column})", tok.column)
        raise self.unexpected(tok, "')'")


def constant_value(node: Node) -> float:
    """Value of a subtree without variables, in float64 (overflow gives inf, never raises)."""
    with np.errstate(all="ignore"):
        return float(_evaluate(node, {}, None))


def parse(text: str) -> Node:
    """Parse ``text`` into a :class:`Node` tree or raise :class:`ExpressionError`."""
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression too long ({len(text)} characters, limit {MAX_LENGTH})")
    return _Parser(tokenize(text)).parse()


_NUMPY_OPS = {
    "neg": np.negative, "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide,
    "^": np.power, "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log,
    "sqrt": np.sqrt, "abs": np.abs, "tanh": np.tanh,
}  # fmt: skip


def _evaluate(node: Node, env: dict, tensor_ops: dict | None):
    """Walk the tree; subtrees without Tensors are computed in NumPy float64."""
    if node.kind == "num":
        return np.float64(node.value)
    if node.kind == "var":
        return env[node.value]
    args = [_evaluate(a, env, tensor_ops) for a in node.args]
    name = node.value if node.kind == "call" else node.kind
    if tensor_ops is None or not any(isinstance(a, tensor_ops["Tensor"]) for a in args):
        return _NUMPY_OPS[name](*args)
    # Mixed: plain Python floats beside Tensors, so the Tensor's operators handle them.
    args = [a if isinstance(a, tensor_ops["Tensor"]) else float(a) for a in args]
    return tensor_ops[name](*args)


def _tensor_ops() -> dict:
    import operator

    import chainrule as cr

    def power(a, b):
        if isinstance(b, float):
            return a**b  # constant exponent: d/da only, no log(a) in the graph
        if isinstance(a, float):
            a = cr.tensor(np.float64(a))
        return a**b

    ops = {name: getattr(cr, name) for name in FUNCTIONS}
    ops.update({
        "Tensor": cr.Tensor, "neg": operator.neg, "+": operator.add, "-": operator.sub,
        "*": operator.mul, "/": operator.truediv, "^": power,
    })  # fmt: skip
    return ops


class Expression:
    """A parsed expression, callable on chainrule Tensors (or arrays) of matching shapes.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"x^2 + 3*y^2"``.

    Examples
    --------
    >>> f = Expression("x^2 + 3*y^2")
    >>> float(f(cr.tensor(1.0), cr.tensor(2.0)).item())
    13.0
    """

    def __init__(self, text: str):
        self.text = text
        self.tree = parse(text)
        self._ops = None

    def __call__(self, x, y):
        """Evaluate elementwise on Tensors ``x`` and ``y``; the result is a Tensor."""
        import chainrule as cr

        if self._ops is None:
            self._ops = _tensor_ops()
        if not isinstance(x, cr.Tensor):
            x = cr.tensor(np.asarray(x, dtype=np.float64))
        if not isinstance(y, cr.Tensor):
            y = cr.tensor(np.asarray(y, dtype=np.float64))
        with np.errstate(all="ignore"):
            out = _evaluate(self.tree, {"x": x, "y": y}, self._ops)
            if not isinstance(out, cr.Tensor):  # a constant: broadcast so gradients exist
                out = x * 0.0 + y * 0.0 + float(out)
            elif out.shape != np.broadcast_shapes(x.shape, y.shape):
                out = out + (x * 0.0 + y * 0.0)
        return out

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


@lru_cache(maxsize=64)
def compile_expression(text: str) -> Expression:
    """Parse ``text`` once and reuse the result (the explorer asks for the same text often)."""
    return Expression(text)
