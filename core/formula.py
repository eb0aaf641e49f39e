"""A small, safe formula language for new columns.

A formula is arithmetic over columns: column names, numbers, ``+ - * / **``,
unary minus, parentheses, comparisons (``< <= > >= == !=``, giving 1 or 0, for
``where``) and the functions ``log, exp, sqrt, abs, min, max, clip, where``.
Column names that are not Python identifiers are written in backticks:
``log(`unit price`) / carat``.

The text is parsed with :mod:`ast` in ``"eval"`` mode (parsing never runs code),
every node is checked against a whitelist, and the tree is evaluated here, node
by node, over numpy arrays. User text never reaches ``eval``, ``exec``,
``compile`` or ``pandas.eval``. Numbers are floats, so ``10 ** 10 ** 10`` is
``inf`` rather than a huge integer; results that are not finite (``1 / 0``,
``log(0)``) become missing values.

>>> import pandas as pd
>>> f = parse("where(b > 0, a / b, 0)")
>>> f.columns
('a', 'b')
>>> evaluate(f, pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 0.0]})).tolist()
[0.5, 0.0]
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import ValidationError

__all__ = ["Formula", "parse", "evaluate", "evaluate_arrays", "to_code", "FUNCTIONS", "MAX_LENGTH"]

MAX_LENGTH = 1000
MAX_NODES = 300
# name -> (fewest arguments, most arguments or None for any number)
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "log": (1, 1), "exp": (1, 1), "sqrt": (1, 1), "abs": (1, 1),
    "min": (2, None), "max": (2, None), "clip": (3, 3), "where": (3, 3),
}
_HINT = ("A formula may use column names (in `backticks` if they contain spaces or symbols), numbers, "
         "+ - * / **, parentheses, comparisons and the functions " + ", ".join(FUNCTIONS) + ".")
_BIN_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CMP_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_FORBIDDEN = {
    ast.Attribute: "attribute access ('.')", ast.Subscript: "indexing ('[...]')",
    ast.Lambda: "lambda functions", ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions", ast.List: "lists",
    ast.Tuple: "tuples", ast.Dict: "dictionaries", ast.Set: "sets", ast.JoinedStr: "text",
    ast.NamedExpr: "assignment (':=')", ast.IfExp: "'... if ... else ...' (use where(...))",
    ast.BoolOp: "'and'/'or'", ast.Starred: "'*' unpacking", ast.Await: "await", ast.Yield: "yield",
}


@dataclass(frozen=True)
class Formula:
    """A checked formula: its text, the columns it reads, and the parsed tree."""

    text: str
    columns: tuple[str, ...]
    tree: ast.expr = field(repr=False, compare=False)


def parse(text: str) -> Formula:
    """Check ``text`` and return the :class:`Formula`; anything not allowed is refused.

    Raises :class:`~core.errors.ValidationError` naming what is wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValidationError("The formula is empty.", hint=_HINT)
    if len(text) > MAX_LENGTH:
        raise ValidationError(f"The formula is {len(text)} characters long; the limit is {MAX_LENGTH}.",
                              hint="Split it into several formula columns.")
    source, quoted = _replace_backticks(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for odd escapes in refused text
            tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValidationError(f"The formula is not valid: {exc.msg} (near character {exc.offset or 1}).",
                              hint=_HINT) from None
    except (ValueError, RecursionError, MemoryError):
        raise ValidationError("The formula cannot be read (it is nested too deeply or has odd characters).",
                              hint=_HINT) from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ValidationError(f"The formula has {nodes} parts; the limit is {MAX_NODES}.",
                              hint="Split it into several formula columns.")
    columns: list[str] = []
    _check(tree.body, quoted, columns)
    return Formula(text, tuple(dict.fromkeys(columns)), _Resolved(quoted).visit(tree.body))


def _replace_backticks(text: str) -> tuple[str, dict[str, str]]:
    """`any name` -> a generated identifier that appears nowhere in the text."""
    if text.count("`") % 2:
        raise ValidationError("The formula has an unmatched backtick (`).",
                              hint="Write column names with spaces or symbols as `like this`.")
    prefix = "_col"
    while prefix in text:
        prefix += "_"
    quoted: dict[str, str] = {}

    def swap(match: re.Match) -> str:
        name = match.group(1)
        if not name:
            raise ValidationError("The formula has an empty column name (``).", hint=_HINT)
        key = f"{prefix}{len(quoted)}"
        quoted[key] = name
        return f" {key} "

    return re.sub(r"`([^`]*)`", swap, text), quoted


def _check(node: ast.AST, quoted: dict[str, str], columns: list[str]) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            what = "text" if isinstance(node.value, (str, bytes)) else repr(node.value)
            raise ValidationError(f"The formula contains {what}; only numbers are allowed as values.", hint=_HINT)
    elif isinstance(node, ast.Name):
        columns.append(quoted.get(node.id, node.id))
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BIN_OPS:
            raise ValidationError(f"The operator {_op_text(node.op)} is not allowed in a formula.", hint=_HINT)
        _check(node.left, quoted, columns)
        _check(node.right, quoted, columns)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ValidationError(f"The operator {_op_text(node.op)} is not allowed in a formula.", hint=_HINT)
        _check(node.operand, quoted, columns)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _CMP_OPS:
                raise ValidationError(f"The comparison {_op_text(op)} is not allowed in a formula.", hint=_HINT)
        for part in (node.left, *node.comparators):
            _check(part, quoted, columns)
    elif isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) and node.func.id not in quoted else None
        if name not in FUNCTIONS:
            called = name or ("a method or an expression" if not isinstance(node.func, ast.Name) else "a column")
            raise ValidationError(f"The formula calls {called!s}; only {', '.join(FUNCTIONS)} can be called.",
                                  hint=_HINT)
        if node.keywords:
            raise ValidationError(f"{name}() takes no named arguments in a formula.", hint=_HINT)
        low, high = FUNCTIONS[name]
        n = len(node.args)
        if n < low or (high is not None and n > high):
            wanted = f"{low}" if low == high else f"at least {low}"
            raise ValidationError(f"{name}() takes {wanted} argument(s); the formula gives it {n}.", hint=_HINT)
        for arg in node.args:
            _check(arg, quoted, columns)
    else:
        what = _FORBIDDEN.get(type(node), type(node).__name__)
        raise ValidationError(f"The formula uses {what}, which is not allowed.", hint=_HINT)


def _op_text(op: ast.AST) -> str:
    return {ast.Mod: "'%'", ast.FloorDiv: "'//'", ast.BitAnd: "'&'", ast.BitOr: "'|'", ast.BitXor: "'^'",
            ast.LShift: "'<<'", ast.RShift: "'>>'", ast.MatMult: "'@'", ast.Not: "'not'", ast.Invert: "'~'",
            ast.Is: "'is'", ast.IsNot: "'is not'", ast.In: "'in'", ast.NotIn: "'not in'",
            }.get(type(op), type(op).__name__)


class _Resolved(ast.NodeTransformer):
    """Put the real column names back in place of the backtick placeholders."""

    def __init__(self, quoted: dict[str, str]):
        self.quoted = quoted

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.Name(id=self.quoted.get(node.id, node.id), ctx=ast.Load())


# --------------------------------------------------------------------------- evaluation


def evaluate(formula: Formula, frame: pd.DataFrame) -> np.ndarray:
    """The formula's value for every row of ``frame`` as float64 (NaN where undefined)."""
    missing = [c for c in formula.columns if c not in frame.columns]
    if missing:
        raise ValidationError(f"The formula uses the column {missing[0]!r}, which is not in the data.",
                              hint="Check the spelling; names with spaces or symbols go in `backticks`.")
    return evaluate_arrays(formula, {c: _numeric(frame[c], c) for c in formula.columns}, len(frame))


def evaluate_arrays(formula: Formula, arrays: dict[str, np.ndarray], n: int) -> np.ndarray:
    """The formula over ``{column: float64 array}`` of length ``n``."""
    with np.errstate(all="ignore"):
        out = np.asarray(_eval(formula.tree, arrays), dtype=np.float64)
    out = np.broadcast_to(out, (n,)).copy()
    out[~np.isfinite(out)] = np.nan
    return out


def _numeric(series: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    raise ValidationError(f"The formula uses {name!r}, which is not a number column ({series.dtype}).",
                          hint="A formula works on numbers; encode categories or dates with their own steps first.")


def _eval(node: ast.expr, arrays: dict[str, np.ndarray]):
    if isinstance(node, ast.Constant):
        return np.float64(node.value)
    if isinstance(node, ast.Name):
        return arrays[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, arrays)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, arrays), _eval(node.right, arrays)
        op = type(node.op)
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        if op is ast.Div:
            return np.true_divide(left, right)
        return np.power(left, right)
    if isinstance(node, ast.Compare):
        result, left = None, _eval(node.left, arrays)
        for op, comparator in zip(node.ops, node.comparators):
            right = _eval(comparator, arrays)
            part = _compare(type(op), left, right)
            result = part if result is None else result * part  # NaN stays NaN
            left = right
        return result
    name, args = node.func.id, [_eval(a, arrays) for a in node.args]
    if name == "log":
        return np.log(args[0])
    if name == "exp":
        return np.exp(args[0])
    if name == "sqrt":
        return np.sqrt(args[0])
    if name == "abs":
        return np.abs(args[0])
    if name == "min":
        return _fold(np.minimum, args)
    if name == "max":
        return _fold(np.maximum, args)
    if name == "clip":
        return np.minimum(np.maximum(args[0], args[1]), args[2])
    cond, a, b = args  # where
    return np.where(np.isnan(cond), np.nan, np.where(cond != 0, a, b))


def _compare(op: type, left, right):
    result = {ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal,
              ast.Eq: np.equal, ast.NotEq: np.not_equal}[op](left, right).astype(np.float64)
    return np.where(np.isnan(left) | np.isnan(right), np.nan, result)


def _fold(fn, args):
    out = args[0]
    for arg in args[1:]:
        out = fn(out, arg)
    return out


# --------------------------------------------------------------------------- export


def to_code(formula: Formula, arrays: str = "c") -> str:
    """The formula as a numpy expression over a dict of float arrays named ``arrays``
    (for the exported script).

    Generated from the checked tree, never from the text: column names appear only
    as quoted string literals (``repr``), so no name can inject code.
    """
    return _code(formula.tree, arrays)


def _code(node: ast.expr, arrays: str) -> str:
    if isinstance(node, ast.Constant):
        return repr(float(node.value))
    if isinstance(node, ast.Name):
        return f"{arrays}[{node.id!r}]"
    if isinstance(node, ast.UnaryOp):
        return f"(-{_code(node.operand, arrays)})" if isinstance(node.op, ast.USub) else _code(node.operand, arrays)
    if isinstance(node, ast.BinOp):
        left, right = _code(node.left, arrays), _code(node.right, arrays)
        if isinstance(node.op, ast.Pow):
            return f"np.power({left}, {right})"
        return f"({left} {_BIN_OPS[type(node.op)]} {right})"
    if isinstance(node, ast.Compare):
        parts, left = [], node.left
        for op, comparator in zip(node.ops, node.comparators):
            a, b = _code(left, arrays), _code(comparator, arrays)
            nan = " | ".join(f"np.isnan({x})" for x, n in ((a, left), (b, comparator))
                             if not isinstance(n, ast.Constant)) or "False"
            parts.append(f"np.where({nan}, np.nan, ({a} {_CMP_OPS[type(op)]} {b}) * 1.0)")
            left = comparator
        return parts[0] if len(parts) == 1 else "(" + " * ".join(parts) + ")"
    name, args = node.func.id, [_code(a, arrays) for a in node.args]
    if name in ("log", "exp", "sqrt", "abs"):
        return f"np.{name}({args[0]})"
    if name in ("min", "max"):
        fn = "np.minimum" if name == "min" else "np.maximum"
        out = args[0]
        for arg in args[1:]:
            out = f"{fn}({out}, {arg})"
        return out
    if name == "clip":
        return f"np.minimum(np.maximum({args[0]}, {args[1]}), {args[2]})"
    return f"np.where(np.isnan({args[0]}), np.nan, np.where({args[0]} != 0, {args[1]}, {args[2]}))"
