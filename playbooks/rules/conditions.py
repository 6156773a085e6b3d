"""Conditions of ``if-condition`` and ``while-condition`` steps (pure): a small boolean language
in the STIX-patterning style CACAO tools write (SOARCA: ``__whileStepVariable__:value <= 10``).

* operands: variable references ``__name__:value`` (and the CACAO 1.x ``$$name$$``),
  ``'single-quoted strings'`` (``\\'`` escapes a quote, ``\\\\`` a backslash), numbers,
  ``true`` / ``false``;
* comparisons: ``=`` ``!=`` ``<`` ``<=`` ``>`` ``>=``, ``IN ('a', 'b')``, ``LIKE 'x%'`` (``%`` any
  text, ``_`` one character), each of ``IN`` and ``LIKE`` optionally preceded by ``NOT``;
* ``AND``, ``OR``, ``NOT`` (keywords in any case) and parentheses (or square brackets, as STIX
  patterns have them);
* a bare operand is its truthiness: ``true``, a non-zero number, a non-empty text other than
  ``"false"``.

Both sides of a comparison are compared as numbers when both are numbers (a text that reads as
a number counts); otherwise as texts. :func:`parse_condition` raises :class:`ConditionError`
with the position (0-based character offset) of the problem; :func:`evaluate` raises it for a
variable the step does not see.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from playbooks.rules.substitution import as_text

MAX_LENGTH = 4000


class ConditionError(ValueError):
    """A condition that cannot be parsed or evaluated; ``position`` is where (or ``None``)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        text = message if position is None else f"position {position}: {message}"
        super().__init__(text)
        self.position = position


# ------------------------------------------------------------------ the tree
@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Ref:
    name: str  # "__name__"
    position: int


Operand = Literal | Ref


@dataclass(frozen=True)
class Truth:
    operand: Operand


@dataclass(frozen=True)
class Compare:
    left: Operand
    op: str  # "=", "!=", "<", "<=", ">", ">="
    right: Operand


@dataclass(frozen=True)
class In:
    left: Operand
    values: tuple[Operand, ...]
    negated: bool = False


@dataclass(frozen=True)
class Like:
    left: Operand
    pattern: str
    negated: bool = False


@dataclass(frozen=True)
class Not:
    inner: Condition


@dataclass(frozen=True)
class Both:
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Either:
    left: Condition
    right: Condition


Condition = Truth | Compare | In | Like | Not | Both | Either


# ------------------------------------------------------------------ tokens
@dataclass(frozen=True)
class Token:
    kind: str  # "ref", "string", "number", "word", "op", "(", ")", ",", "end"
    value: Any
    position: int


_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<ref>__[a-zA-Z_][a-zA-Z0-9_-]{0,199}__(?::value)?|\$\$[a-zA-Z_][a-zA-Z0-9_-]{0,199}\$\$)
    |(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    |(?P<string>')
    |(?P<word>[A-Za-z]+)
    |(?P<op><=|>=|!=|<>|==|=|<|>)
    |(?P<paren>[()\[\],])""",
    re.VERBOSE,
)
_WORDS = {"and", "or", "not", "in", "like", "true", "false"}


def _string(text: str, start: int) -> tuple[str, int]:
    """The quoted string opening at ``start``; (value, index after the closing quote)."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "'\\":
            out.append(text[i + 1])
            i += 2
        elif c == "'":
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise ConditionError("unterminated string", start)


def _tokens(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        match = _TOKEN.match(text, i)
        if match is None:
            raise ConditionError(f"unexpected character {text[i]!r}", i)
        kind = match.lastgroup or ""
        if kind == "string":
            value, i = _string(text, i)
            tokens.append(Token("string", value, match.start()))
            continue
        if kind != "space":
            tokens.append(_token(kind, match.group(), i))
        i = match.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


def _token(kind: str, raw: str, i: int) -> Token:
    if kind == "ref":
        name = raw[:-6] if raw.endswith(":value") else raw
        return Token("ref", f"__{name[2:-2]}__" if name.startswith("$$") else name, i)
    if kind == "number":
        return Token("number", float(raw) if any(c in raw for c in ".eE") else int(raw), i)
    if kind == "word":
        if raw.lower() not in _WORDS:
            raise ConditionError(f"unknown word {raw!r} (quote text: 'text')", i)
        return Token("word", raw.lower(), i)
    if kind == "op":
        return Token("op", {"<>": "!=", "==": "="}.get(raw, raw), i)
    return Token({"[": "(", "]": ")"}.get(raw, raw), raw, i)


# ------------------------------------------------------------------ the parser
class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_word(self, word: str, offset: int = 0) -> bool:
        token = self.tokens[min(self.i + offset, len(self.tokens) - 1)]
        return token.kind == "word" and token.value == word

    def expect(self, kind: str, what: str) -> Token:
        token = self.take()
        if token.kind != kind:
            raise ConditionError(f"expected {what}, found {_show(token)}", token.position)
        return token

    def parse(self) -> Condition:
        condition = self.either()
        if self.peek.kind != "end":
            raise ConditionError(f"unexpected {_show(self.peek)}", self.peek.position)
        return condition

    def either(self) -> Condition:
        left = self.both()
        while self.is_word("or"):
            self.take()
            left = Either(left, self.both())
        return left

    def both(self) -> Condition:
        left = self.negation()
        while self.is_word("and"):
            self.take()
            left = Both(left, self.negation())
        return left

    def negation(self) -> Condition:
        if self.is_word("not"):
            self.take()
            return Not(self.negation())
        if self.peek.kind == "(":
            self.take()
            inner = self.either()
            self.expect(")", "')'")
            return inner
        return self.comparison()

    def comparison(self) -> Condition:
        left = self.operand()
        negated = self.is_word("not") and (self.is_word("in", 1) or self.is_word("like", 1))
        if negated:
            self.take()
        if self.is_word("in"):
            self.take()
            return In(left, self.values(), negated)
        if self.is_word("like"):
            self.take()
            return Like(left, self.expect("string", "a quoted pattern").value, negated)
        if self.peek.kind == "op":
            return Compare(left, self.take().value, self.operand())
        return Truth(left)

    def values(self) -> tuple[Operand, ...]:
        self.expect("(", "'(' after IN")
        values = [self.operand()]
        while self.peek.kind == ",":
            self.take()
            values.append(self.operand())
        self.expect(")", "')' closing the IN list")
        return tuple(values)

    def operand(self) -> Operand:
        token = self.take()
        if token.kind == "ref":
            return Ref(token.value, token.position)
        if token.kind in ("string", "number"):
            return Literal(token.value)
        if token.kind == "word" and token.value in ("true", "false"):
            return Literal(token.value == "true")
        raise ConditionError(f"expected a value, found {_show(token)}", token.position)


def _show(token: Token) -> str:
    if token.kind == "end":
        return "the end of the condition"
    if token.kind == "string":
        return f"'{token.value}'"
    return repr(str(token.value))


def parse_condition(text: str) -> Condition:
    """The condition ``text`` as a tree; :class:`ConditionError` (with the position) when it is
    not one."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("the condition is empty", 0)
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    return _Parser(text).parse()


# ------------------------------------------------------------------ evaluation
def evaluate(condition: Condition, variables: Mapping[str, Any]) -> bool:
    """Whether ``condition`` holds with ``variables`` ("__name__" → value);
    :class:`ConditionError` for a reference to a variable not in ``variables``."""
    match condition:
        case Either(left, right):
            return evaluate(left, variables) or evaluate(right, variables)
        case Both(left, right):
            return evaluate(left, variables) and evaluate(right, variables)
        case Not(inner):
            return not evaluate(inner, variables)
        case Truth(operand):
            return truthy(_value(operand, variables))
        case Compare(left, op, right):
            return _compare(_value(left, variables), op, _value(right, variables))
        case In(left, values, negated):
            value = _value(left, variables)
            found = any(_compare(value, "=", _value(v, variables)) for v in values)
            return found != negated
        case Like(left, pattern, negated):
            matched = _like(pattern).fullmatch(as_text(_value(left, variables))) is not None
            return matched != negated
    raise TypeError(f"not a condition: {condition!r}")  # pragma: no cover


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0")
    return bool(value)


def _value(operand: Operand, variables: Mapping[str, Any]) -> Any:
    if isinstance(operand, Literal):
        return operand.value
    if operand.name not in variables:
        raise ConditionError(f"unknown variable {operand.name}", operand.position)
    return variables[operand.name]


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _compare(left: Any, op: str, right: Any) -> bool:
    a, b = _number(left), _number(right)
    x: Any
    y: Any
    if a is not None and b is not None:
        x, y = a, b
    else:
        x, y = as_text(left), as_text(right)
    match op:
        case "=":
            return bool(x == y)
        case "!=":
            return bool(x != y)
        case "<":
            return bool(x < y)
        case "<=":
            return bool(x <= y)
        case ">":
            return bool(x > y)
        case ">=":
            return bool(x >= y)
    raise ConditionError(f"unknown operator {op!r}")  # pragma: no cover


def _like(pattern: str) -> re.Pattern[str]:
    parts = ("." if c == "_" else ".*" if c == "%" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)
