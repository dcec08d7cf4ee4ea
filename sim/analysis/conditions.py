"""Conditions on outcomes, such as ``capability_gap_months_final > 2 and fines < 1e6``.

The grammar is small: outcome names (summary keys of the metric registry), numbers,
comparisons (``<  <=  >  >=  ==  !=``, chains such as ``0.1 < x < 0.5`` included),
``and``, ``or``, ``not`` and parentheses. The text is parsed into a Python syntax tree and
every node is checked against that grammar; nothing is ever evaluated by Python itself, so a
condition cannot run code. Unknown outcome names and malformed expressions are refused with
a message naming the problem, before any run.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.validate import ConfigError

MAX_LENGTH = 1000
_COMPARE: dict[type, Callable] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its text, the outcomes it reads, and a checked syntax tree."""

    text: str
    outcomes: tuple[str, ...]
    tree: ast.expr

    def evaluate(self, frame: pd.DataFrame | dict[str, np.ndarray]) -> np.ndarray:
        """True where the condition holds, one value per row; a missing value (NaN) is False."""
        columns = {k: np.asarray(frame[k], dtype=float) for k in self.outcomes}
        return np.asarray(_evaluate(self.tree, columns), dtype=bool)


def parse_condition(text: str, allowed: Iterable[str]) -> Condition:
    """Parse ``text`` into a :class:`Condition` over the outcome names in ``allowed``.

    Raises ConfigError for a malformed expression, an unsupported construct or an unknown
    outcome name, naming it.
    """
    allowed = list(allowed)
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("condition: empty; write e.g. 'gap_closed_months_final > 1'")
    if len(text) > MAX_LENGTH:
        raise ConfigError(f"condition: longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as e:
        where = f" at column {e.offset}" if e.offset else ""
        raise ConfigError(f"condition {text!r}: malformed expression{where} ({e.msg})") from None
    names: list[str] = []
    _check(tree, text, allowed, names, top=True)
    return Condition(text, tuple(dict.fromkeys(names)), tree)


def _describe(node: ast.AST) -> str:
    try:
        return repr(ast.unparse(node))
    except Exception:  # pragma: no cover - unparse handles every parsed node
        return type(node).__name__


def _number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        node = node.operand
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )


def _check(node: ast.AST, text: str, allowed: list[str], names: list[str], top: bool) -> None:
    where = f"condition {text!r}"
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, text, allowed, names, top=True)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, text, allowed, names, top=True)
    elif isinstance(node, ast.Compare):
        if not all(type(op) in _COMPARE for op in node.ops):
            raise ConfigError(
                f"{where}: {_describe(node)} uses an operator that is not a comparison "
                "(allowed: < <= > >= == !=)"
            )
        operands = [node.left, *node.comparators]
        for operand in operands:
            _check(operand, text, allowed, names, top=False)
        if not any(isinstance(o, ast.Name) for o in operands):
            raise ConfigError(f"{where}: {_describe(node)} compares no outcome")
    elif isinstance(node, ast.Name) and not top:
        if node.id not in allowed:
            raise ConfigError(f"{where}: unknown outcome {node.id!r}; outcomes are {allowed}")
        names.append(node.id)
    elif _number(node) and not top:
        return
    elif top:
        raise ConfigError(
            f"{where}: {_describe(node)} is not a comparison; write e.g. "
            f"'{allowed[0] if allowed else 'outcome'} > 1' joined with and / or"
        )
    else:
        raise ConfigError(
            f"{where}: {_describe(node)} is not an outcome name or a number "
            "(arithmetic, calls and text are not part of the grammar)"
        )


def _value(node: ast.AST, columns: dict[str, np.ndarray]) -> np.ndarray | float:
    if isinstance(node, ast.Name):
        return columns[node.id]
    if isinstance(node, ast.UnaryOp):
        value = float(node.operand.value)
        return -value if isinstance(node.op, ast.USub) else value
    return float(node.value)


def _evaluate(node: ast.AST, columns: dict[str, np.ndarray]) -> np.ndarray:
    if isinstance(node, ast.BoolOp):
        parts = [_evaluate(v, columns) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = parts[0]
        for part in parts[1:]:
            out = combine(out, part)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return np.logical_not(_evaluate(node.operand, columns))
    left = _value(node.left, columns)
    result = None
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = _value(right_node, columns)
        with np.errstate(invalid="ignore"):
            part = _COMPARE[type(op)](left, right) & ~np.isnan(left) & ~np.isnan(right)
        result = part if result is None else np.logical_and(result, part)
        left = right
    return result
