"""SCIM filter parser: RFC 7644 §3.4.2.2 filter text → a frozen dataclass AST.

Does: tokenise and parse the whole filter grammar (comparison and presence tests, ``and``
binding tighter than ``or``, parentheses, ``not (...)``, value filters ``emails[...]``,
URN-qualified attribute names, JSON literals; Entra's ``emails[type eq "work"].value eq "x"``
as ``emails[type eq "work" and value eq "x"]``) and reject anything else with an
``InvalidFilter`` whose detail says where and what was expected.

Does not: know which attributes exist (``schema.ResourceType.resolve`` does), evaluate
filters (``match``), or translate them to LDAP (``gateway.mapping.search``). String values
come through exactly as sent: ``"*"``, ``")("``, ``"a\\\\b"`` and NUL are plain characters here;
escaping them is the LDAP renderer's job.

The same machinery parses PATCH paths (``path.parse_path``), raising ``InvalidPath`` there.
"""

from __future__ import annotations

import json
import math
import re
import types
from dataclasses import dataclass
from typing import NoReturn

from gateway.errors import InvalidFilter, ScimError

MAX_FILTER_LENGTH = 4096
"""Longer filters are refused: no client needs them, and they cost parse and LDAP time."""

MAX_FILTER_DEPTH = 50
"""Deepest nesting accepted, counted both as parentheses/brackets open at once and as the
depth of the resulting tree (a chain ``a or b or c`` is a left-deep tree of depth 3). Any
``Filter`` returned is therefore safe to walk recursively."""

COMPARE_OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
ORDERING_OPERATORS = frozenset({"gt", "ge", "lt", "le"})
SUBSTRING_OPERATORS = frozenset({"co", "sw", "ew"})

CompValue = str | bool | int | float | None
"""A comparison value (RFC 7644 §3.4.2.2 ``compValue``): JSON string, number, boolean, null."""


@dataclass(frozen=True, slots=True)
class AttrPath:
    """``[URI ":"] ATTRNAME ["." subAttr]`` (RFC 7644 §3.4.2.2 ``attrPath``).

    Names are kept as written; attribute names are case-insensitive (RFC 7643 §2.1), so
    callers compare them with ``str.casefold``/``lower``.
    """

    schema: str | None
    attr: str
    sub_attr: str | None = None

    def dotted(self) -> str:
        """The path without its schema URN: ``name.givenName`` or ``userName``."""
        return self.attr if self.sub_attr is None else f"{self.attr}.{self.sub_attr}"

    def qualified(self) -> str:
        """The path as a client would write it, URN included when one was given."""
        return self.dotted() if self.schema is None else f"{self.schema}:{self.dotted()}"


@dataclass(frozen=True, slots=True)
class Compare:
    """``attrPath op value``; ``op`` is lower-case, one of ``COMPARE_OPERATORS``."""

    path: AttrPath
    op: str
    value: CompValue


@dataclass(frozen=True, slots=True)
class Present:
    """``attrPath pr``: the attribute has a non-empty value (RFC 7644 §3.4.2.2)."""

    path: AttrPath


@dataclass(frozen=True, slots=True)
class And:
    left: Filter
    right: Filter


@dataclass(frozen=True, slots=True)
class Or:
    left: Filter
    right: Filter


@dataclass(frozen=True, slots=True)
class Not:
    inner: Filter


@dataclass(frozen=True, slots=True)
class ValuePath:
    """``attr[filter]``: some value of multi-valued ``attr`` matches ``filter``.

    Paths inside ``filter`` are relative to the attribute: ``AttrPath(None, "type")``.
    """

    path: AttrPath
    filter: Filter


Filter = Compare | Present | And | Or | Not | ValuePath

# Characters an attribute path token may contain: names, '.', and the URN before the name.
_PATH_TOKEN = re.compile(r"[A-Za-z0-9:._$/\-]+")
_ATTR_NAME = re.compile(r"(?:[A-Za-z][A-Za-z0-9_\-]*|\$ref)\Z")
_ATTR_NAME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*|\$ref")
_SCHEMA_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9:._/\-]+\Z")
_WORD = re.compile(r"[A-Za-z]+")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_SPACE = " \t\r\n"
_VALUE_END = _SPACE + ")]"
_OPERATOR_LIST = "an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)"


def parse_filter(text: str) -> Filter:
    """Parse a filter (RFC 7644 §3.4.2.2); raise ``InvalidFilter`` saying where it fails.

    ``attr[filter].sub op value`` (Entra's email matching query) is read as
    ``attr[filter and sub op value]``.
    """
    if not isinstance(text, str):
        raise InvalidFilter("the filter must be a string")
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilter(f"the filter is longer than {MAX_FILTER_LENGTH} characters")
    if not text.strip():
        raise InvalidFilter("the filter is empty")
    parser = FilterParser(text, InvalidFilter, "filter")
    node, _ = parser.parse_or(0, in_brackets=False)
    parser.skip_space()
    if not parser.at_end():
        parser.fail("'and', 'or' or the end of the filter")
    return node


class FilterParser:
    """Recursive-descent parser over one string; shared by filters and PATCH paths.

    Every method leaves ``pos`` after what it consumed. Methods that build nodes return
    ``(node, depth)`` so depth is checked while parsing, never by a second recursive walk.
    """

    def __init__(self, text: str, error: type[ScimError], what: str) -> None:
        self.text = text
        self.pos = 0
        self.error = error
        self.what = what

    # ------------------------------------------------------------------ scanning helpers

    def fail(self, expected: str, pos: int | None = None) -> NoReturn:
        """Raise the parser's error: position (0-based), what was expected, what was found."""
        at = self.pos if pos is None else pos
        if at >= len(self.text):
            found = "the end of the text"
        else:
            excerpt = self.text[at : at + 20]
            found = repr(excerpt + ("…" if at + 20 < len(self.text) else ""))
        raise self.error(
            f"invalid {self.what} at position {at}: expected {expected}, found {found}"
        )

    def refuse(self, reason: str, pos: int | None = None) -> NoReturn:
        """Raise the parser's error for well-formed text that is not allowed here."""
        at = self.pos if pos is None else pos
        raise self.error(f"invalid {self.what} at position {at}: {reason}")

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self, char: str) -> bool:
        return self.text.startswith(char, self.pos)

    def skip_space(self) -> int:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
            self.pos += 1
        return self.pos - start

    def expect(self, char: str) -> None:
        if not self.peek(char):
            self.fail(f"'{char}'")
        self.pos += 1

    def _keyword(self, *words: str) -> str | None:
        """Consume one of ``words`` (any case) if it stands alone here; else consume nothing."""
        save = self.pos
        self.skip_space()
        match = _WORD.match(self.text, self.pos)
        if match is not None and match.group().lower() in words:
            end = match.end()
            if end >= len(self.text) or self.text[end] in _SPACE + "(":
                self.pos = end
                return match.group().lower()
        self.pos = save
        return None

    def _checked_depth(self, depth: int, start: int) -> int:
        if depth > MAX_FILTER_DEPTH:
            self.refuse(f"nested more than {MAX_FILTER_DEPTH} levels deep", start)
        return depth

    # ------------------------------------------------------------------------ grammar

    def parse_or(self, nesting: int, *, in_brackets: bool) -> tuple[Filter, int]:
        """``or`` chains of ``and`` chains: ``and`` binds tighter (RFC 7644 §3.4.2.2)."""
        start = self.pos
        node, depth = self.parse_and(nesting, in_brackets=in_brackets)
        while self._keyword("or"):
            right, right_depth = self.parse_and(nesting, in_brackets=in_brackets)
            node, depth = Or(node, right), self._checked_depth(1 + max(depth, right_depth), start)
        return node, depth

    def parse_and(self, nesting: int, *, in_brackets: bool) -> tuple[Filter, int]:
        start = self.pos
        node, depth = self.parse_unary(nesting, in_brackets=in_brackets)
        while self._keyword("and"):
            right, right_depth = self.parse_unary(nesting, in_brackets=in_brackets)
            node, depth = And(node, right), self._checked_depth(1 + max(depth, right_depth), start)
        return node, depth

    def parse_unary(self, nesting: int, *, in_brackets: bool) -> tuple[Filter, int]:
        """A parenthesised filter, ``not (...)``, a value filter or an attribute expression."""
        self.skip_space()
        start = self.pos
        if self.at_end():
            self.fail("an attribute name, '(' or 'not'")
        if self.peek("("):
            return self._group(nesting, in_brackets=in_brackets)
        word = _WORD.match(self.text, self.pos)
        if word is not None and word.group().lower() == "not":
            after = word.end()
            if after >= len(self.text) or self.text[after] in _SPACE + "(":
                self.pos = after
                self.skip_space()
                if not self.peek("("):
                    self.fail("'(' after 'not'")
                inner, depth = self._group(nesting, in_brackets=in_brackets)
                return Not(inner), self._checked_depth(depth + 1, start)
        path = self.parse_attr_path(relative=in_brackets)
        if self.peek("["):
            if in_brackets:
                self.refuse("value filters [...] cannot be nested")
            node, depth = self.parse_value_path(path, nesting)
            if self.peek("."):
                node = self._sub_attribute_test(node)
                depth += 1
            return node, self._checked_depth(depth, start)
        return self._attr_expression(path), 1

    def _sub_attribute_test(self, node: ValuePath) -> ValuePath:
        """``emails[type eq "work"].value eq "x"`` → ``emails[type eq "work" and value eq "x"]``.

        Not in RFC 7644's filter grammar (``valuePath`` has no ``.subAttr`` there), but Entra
        ID sends exactly this when email is the matching attribute (Microsoft's SCIM
        provisioning tutorial; ../shared/reference/entra-scim.md §10). Its only sensible
        reading is a test on the same value the brackets selected, so it becomes one value
        filter and needs no other support anywhere.
        """
        self.pos += 1  # the "."
        match = _ATTR_NAME_PREFIX.match(self.text, self.pos)
        if match is None:
            self.fail("a sub-attribute name after '].'")
        self.pos = match.end()
        if self.peek(".") or self.peek("["):
            self.fail("an operator after the sub-attribute")
        test = self._attr_expression(AttrPath(None, match.group()))
        return ValuePath(node.path, And(node.filter, test))

    def parse_value_path(self, path: AttrPath, nesting: int) -> tuple[ValuePath, int]:
        """``attr[valFilter]`` with ``pos`` on the ``[``."""
        if path.sub_attr is not None:
            self.refuse(
                f"'{path.dotted()}' is a sub-attribute and cannot take a value filter [...]"
            )
        if nesting + 1 > MAX_FILTER_DEPTH:
            self.refuse(f"nested more than {MAX_FILTER_DEPTH} levels deep")
        self.pos += 1
        inner, depth = self.parse_or(nesting + 1, in_brackets=True)
        self.skip_space()
        self.expect("]")
        return ValuePath(path, inner), depth + 1

    def _group(self, nesting: int, *, in_brackets: bool) -> tuple[Filter, int]:
        if nesting + 1 > MAX_FILTER_DEPTH:
            self.refuse(f"nested more than {MAX_FILTER_DEPTH} levels deep")
        self.pos += 1  # the "("
        node, depth = self.parse_or(nesting + 1, in_brackets=in_brackets)
        self.skip_space()
        self.expect(")")
        return node, depth

    def parse_attr_path(self, *, relative: bool) -> AttrPath:
        """``[URI ":"] ATTRNAME ["." subAttr]``; the URN ends at the last ':' (RFC 7644 §3.10).

        ``relative`` is for paths inside ``[...]``, which name a sub-attribute of the
        bracketed attribute and so take neither a URN nor a further ``.sub``.
        """
        start = self.pos
        match = _PATH_TOKEN.match(self.text, self.pos)
        if match is None:
            self.fail("an attribute name")
        token = match.group()
        self.pos = match.end()
        schema: str | None = None
        rest = token
        if ":" in token:
            schema, _, rest = token.rpartition(":")
            if relative:
                self.fail("a sub-attribute name (no schema URN inside [...])", start)
            if not _SCHEMA_URI.match(schema):
                self.fail("a schema URN before the last ':' of the attribute path", start)
        offset = start + len(token) - len(rest)
        parts = rest.split(".")
        if len(parts) > 2:
            self.fail("an attribute path with at most one '.' (attr.subAttr)", start)
        for part in parts:
            if not _ATTR_NAME.match(part):
                self.fail("an attribute name (a letter, then letters, digits, '-' or '_')", offset)
            offset += len(part) + 1
        if relative and len(parts) == 2:
            self.fail("a sub-attribute name without '.' inside [...]", start)
        return AttrPath(schema, parts[0], parts[1] if len(parts) == 2 else None)

    def _attr_expression(self, path: AttrPath) -> Compare | Present:
        """``attrPath SP "pr"`` or ``attrPath SP compareOp SP compValue``."""
        if self.skip_space() == 0:
            self.fail(f"a space then {_OPERATOR_LIST} after '{path.qualified()}'")
        start = self.pos
        word = _WORD.match(self.text, self.pos)
        if word is None:
            self.fail(_OPERATOR_LIST)
        op = word.group().lower()
        if op == "pr":
            self.pos = word.end()
            self._expect_value_end("a space, ')', ']' or the end after 'pr'")
            return Present(path)
        if op not in COMPARE_OPERATORS:
            self.fail(_OPERATOR_LIST)
        self.pos = word.end()
        if self.skip_space() == 0 and not self.peek('"'):
            self.fail(f"a space then a value after '{op}'")
        value = self.parse_literal()
        if op in ORDERING_OPERATORS and (value is None or isinstance(value, bool)):
            self.refuse(
                f"'{op}' compares strings, numbers or dates, not {json.dumps(value)}", start
            )
        if op in SUBSTRING_OPERATORS and not isinstance(value, str):
            self.refuse(f"'{op}' needs a string value, not {json.dumps(value)}", start)
        return Compare(path, op, value)

    def _expect_value_end(self, expected: str) -> None:
        if not self.at_end() and self.text[self.pos] not in _VALUE_END:
            self.fail(expected)

    def parse_literal(self) -> CompValue:
        """``compValue``: a JSON string, number, ``true``, ``false`` or ``null`` (any case)."""
        start = self.pos
        expected = "a value: a JSON string in double quotes, a number, true, false or null"
        if self.peek('"'):
            try:
                value, end = json.decoder.scanstring(self.text, self.pos + 1, True)
            except json.JSONDecodeError as err:
                self.fail(f"a valid JSON string ({err.msg})", err.pos)
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                self.refuse(
                    "the string contains an unpaired surrogate escape (\\ud800-\\udfff)", start
                )
            self.pos = end
            literal: CompValue = value
        elif (number := _NUMBER.match(self.text, self.pos)) is not None:
            text = number.group()
            self.pos = number.end()
            if any(c in text for c in ".eE"):
                literal = float(text)
                if not math.isfinite(literal):
                    self.refuse(f"the number {text} is out of range", start)
            else:
                literal = int(text)
        elif (word := _WORD.match(self.text, self.pos)) is not None and word.group().lower() in (
            "true",
            "false",
            "null",
        ):
            self.pos = word.end()
            literal = {"true": True, "false": False, "null": None}[word.group().lower()]
        elif self.peek("'"):
            self.fail(expected + " (strings take double quotes)")
        else:
            self.fail(expected)
        self._expect_value_end("a space, ')', ']' or the end after the value")
        return literal


def format_filter(node: Filter) -> str:
    """Render a filter back to RFC 7644 §3.4.2.2 text (for error details and logs).

    ``parse_filter(format_filter(f)) == f`` holds for every parsed filter.
    """
    if isinstance(node, Compare):
        value = json.dumps(node.value, ensure_ascii=False)
        return f"{node.path.qualified()} {node.op} {value}"
    if isinstance(node, Present):
        return f"{node.path.qualified()} pr"
    if isinstance(node, Not):
        return f"not ({format_filter(node.inner)})"
    if isinstance(node, ValuePath):
        return f"{node.path.qualified()}[{format_filter(node.filter)}]"
    if isinstance(node, And):
        return f"{_operand(node.left, Or)} and {_operand(node.right, Or | And)}"
    return f"{format_filter(node.left)} or {_operand(node.right, Or)}"


def _operand(node: Filter, needs_parentheses: type | types.UnionType) -> str:
    text = format_filter(node)
    return f"({text})" if isinstance(node, needs_parentheses) else text
