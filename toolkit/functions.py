"""Target functions for training: named ones and safe user expressions of x.

An expression such as "sin(x) + 0.5*cos(2*x)" is parsed with `ast` and checked
against a whitelist (numbers, x, pi, e, + - * / ** %, unary minus and a set of
numpy functions); then it is evaluated by walking the tree. User text is never
passed to eval() or compiled.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass
from typing import Callable

import numpy as np

from toolkit.errors import ToolkitError

FUNCTIONS: dict[str, Callable[..., np.ndarray]] = {
    name: getattr(np, name)
    for name in (
        "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
        "exp", "log", "log2", "log10", "sqrt", "abs", "sign", "floor", "ceil",
        "minimum", "maximum", "arctan2", "hypot",
    )
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}
BINARY: dict[type, Callable] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow, ast.Mod: operator.mod,
}
UNARY: dict[type, Callable] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
MAX_LENGTH = 500
MAX_NODES = 200


class ExpressionError(ToolkitError):
    """The expression is not a plain arithmetic expression of x."""


@dataclass(frozen=True)
class TargetFunction:
    text: str
    tree: ast.expr

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            y = _evaluate(self.tree, np.asarray(x, dtype=np.float64))
        y = np.broadcast_to(np.asarray(y, dtype=np.float64), np.shape(x)).copy()
        if not np.all(np.isfinite(y)):
            raise ExpressionError(f"'{self.text}' is not finite everywhere on the requested range")
        return y


def parse_function(text: str) -> TargetFunction:
    """Parse `sin`, `cos` or an expression of x; raise ExpressionError when not allowed."""
    text = text.strip()
    if text in FUNCTIONS:  # a bare function name means f(x)
        text = f"{text}(x)"
    if not text:
        raise ExpressionError("empty function expression")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse '{text}': {exc.msg}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExpressionError(f"expression has more than {MAX_NODES} parts")
    for node in nodes:
        _check(node, text)
    return TargetFunction(text, tree)


def _check(node: ast.AST, text: str) -> None:
    allowed = f"allowed: x, numbers, {', '.join(CONSTANTS)}, + - * / ** %, and {', '.join(FUNCTIONS)}"
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"only numbers may appear as literals in '{text}'")
    elif isinstance(node, ast.Name):
        if node.id != "x" and node.id not in CONSTANTS and node.id not in FUNCTIONS:
            raise ExpressionError(f"unknown name '{node.id}' in '{text}'; {allowed}")
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExpressionError(f"only whitelisted functions may be called in '{text}'; {allowed}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExpressionError(f"functions take plain positional arguments in '{text}'")
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in BINARY:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed in '{text}'; {allowed}")
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in UNARY:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed in '{text}'; {allowed}")
    elif not isinstance(node, (ast.Load, *BINARY, *UNARY)):
        raise ExpressionError(f"'{type(node).__name__}' is not allowed in '{text}'; {allowed}")


def _evaluate(node: ast.expr, x: np.ndarray):
    if isinstance(node, ast.Constant):
        return np.float64(node.value)  # numpy floats: 9**9**9 overflows to inf, no big ints
    if isinstance(node, ast.Name):
        if node.id == "x":
            return x
        if node.id in CONSTANTS:
            return np.float64(CONSTANTS[node.id])
        raise ExpressionError(f"function '{node.id}' used without calling it")
    if isinstance(node, ast.BinOp):
        return BINARY[type(node.op)](_evaluate(node.left, x), _evaluate(node.right, x))
    if isinstance(node, ast.UnaryOp):
        return UNARY[type(node.op)](_evaluate(node.operand, x))
    if isinstance(node, ast.Call):
        args = [_evaluate(a, x) for a in node.args]
        try:
            return FUNCTIONS[node.func.id](*args)
        except TypeError:
            raise ExpressionError(f"wrong number of arguments to {node.func.id}()") from None
    raise ExpressionError(f"cannot evaluate {type(node).__name__}")


def parse_range(text: str) -> tuple[float, float]:
    """'a,b' -> (a, b); each bound may be an expression such as 2*pi."""
    parts = text.split(",")
    if len(parts) != 2:
        raise ToolkitError(f"range must be 'a,b', got '{text}'")
    lo, hi = (float(parse_function(p)(np.zeros(1))[0]) for p in parts)
    if not lo < hi:
        raise ToolkitError(f"range needs a < b, got {lo}, {hi}")
    return lo, hi
