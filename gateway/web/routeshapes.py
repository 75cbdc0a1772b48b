"""A request's route found by the shape of its path, Werkzeug's state machine run once per shape.

Werkzeug's :meth:`~werkzeug.routing.MapAdapter.match` walks its state machine for every request
(a recursive ``_match`` per path segment, a regex per dynamic segment, the converters): ~25-50
µs here for ``/scim/v2/Users/<id>``, though the answer is the same for every id. This module
keeps the answer per *shape*: the path's segments with each one that is no static segment of
any rule replaced by its position.

Why the shape decides the answer, for a map :class:`Shapes` accepts (checked when built):
every dynamic segment outside a few static-only prefixes is a whole segment of the default
``string`` converter (regex ``[^/]{1,}``, ``to_python`` the identity), and no rule has
defaults, an alias, a ``redirect_to`` or a websocket flag. At each state the machine first
looks the segment up among that state's static keys (a segment that is no static key
anywhere misses everywhere, as its placeholder does), then tries the dynamic parts, each of
which matches any non-empty segment (so a placeholder, a non-empty string without ``/``,
matches exactly where the segment would). The walk over the real path and over its shape thus
takes the same transitions and ends at the same rule, raises the same exceptions, and each
value is the segment at the placeholder's position. Paths starting with a static-only prefix
that leads to another kind of dynamic part (Flask's ``/static/<path:filename>``) are matched
by Werkzeug every time, as is everything but a plain match (404, 405, redirects): only
successful matches are kept.

tests/unit/web/test_routeshapes.py holds this to Werkzeug's answer over every route and many
odd paths and methods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug.routing import BaseConverter, Map, MapAdapter, Rule

MAX_SHAPES = 1024
"""Shapes kept per map; past that, each new shape is matched by Werkzeug as before (a client
chooses its paths, the number of shapes a path can have is not bounded by the routes)."""

_PLAIN_PART = re.compile(r"\(\?P<__werkzeug_\d+>\[\^/\]\{1,\}\)\\Z")
"""The state machine's regex of a whole segment of the default ``string`` converter."""

_PLACEHOLDER = "\x00{}"
_FALLBACK = object()
"""A shape whose answer is not a plain match: asked of Werkzeug each time."""

Answer = tuple[Rule, tuple[tuple[str, "int | str"], ...]]


class CountingMap(Map):
    """Werkzeug's URL map, counting the rules added: :class:`Shapes` forgets what it kept when
    the count moves (``Map._rules`` would tell too, but builds a list of every rule to do it)."""

    added = 0

    def add(self, rulefactory: Any) -> None:
        super().add(rulefactory)
        self.added += 1


class _Ineligible(Exception):
    """The map holds something the shape argument does not cover."""


@dataclass(frozen=True)
class _Table:
    """What :class:`Shapes` knows of a map at a given count of rules, replaced whole (never
    changed but for ``answers``) so that a thread reading it sees one consistent map."""

    count: int
    eligible: bool = False
    statics: frozenset[str] = frozenset()
    unsafe: tuple[list[str], ...] = ()
    answers: dict[tuple[Any, ...], Answer | object] = field(default_factory=dict)


class Shapes:
    """Per URL map: what a path's shape matches, kept for the first :data:`MAX_SHAPES`."""

    def __init__(self, url_map: Map) -> None:
        self.url_map = url_map
        self._counted = isinstance(url_map, CountingMap)
        self._table = _Table(-1)

    def match(self, domain: str, path_info: str, method: str) -> tuple[Rule, dict[str, Any]] | None:
        """``MapAdapter.match(return_rule=True)``'s answer when it is a plain match and this
        shape's is known or found now; None when Werkzeug must answer (its answer may be an
        exception, or the path is outside what shapes cover)."""
        self.url_map.update()  # as MapAdapter.match does first
        table = self._table
        if self._version() != table.count:
            table = self._table = self._build()
        if not table.eligible:
            return None
        path = f"/{path_info.lstrip('/')}" if path_info else ""
        parts = [domain, *path.split("/")]
        for prefix in table.unsafe:
            if parts[: len(prefix)] == prefix:
                return None
        statics = table.statics
        answers = table.answers
        key = (method, *[p if not p or p in statics else i for i, p in enumerate(parts)])
        answer = answers.get(key)
        if answer is None:
            answer = self._find(key[1:], method)
            if len(answers) < MAX_SHAPES:
                answers[key] = answer
        if answer is _FALLBACK:
            return None
        rule, sources = answer  # type: ignore[misc]
        return rule, {name: parts[s] if type(s) is int else s for name, s in sources}

    def _version(self) -> int:
        return self.url_map.added if self._counted else len(self.url_map._rules)  # type: ignore[attr-defined]

    def _find(self, shape: tuple[Any, ...], method: str) -> Answer | object:
        """Werkzeug's matcher run on the shape (placeholders for the variable segments)."""
        texts = [_PLACEHOLDER.format(p) if type(p) is int else p for p in shape]
        try:
            rule, values = self.url_map._matcher.match(texts[0], "/".join(texts[1:]), method, False)
        except Exception:  # NotFound, 405, redirects: Werkzeug answers those itself
            return _FALLBACK
        sources: list[tuple[str, int | str]] = []
        for name, value in values.items():
            if isinstance(value, str) and value.startswith("\x00"):
                position = int(value[1:])
                if texts[position] != value:
                    return _FALLBACK
                sources.append((name, position))
            else:
                sources.append((name, value))
        return rule, tuple(sources)

    def _build(self) -> _Table:
        """Check the map is one the shape argument covers; collect its static segments."""
        count = self._version()
        statics: set[str] = set()
        unsafe: list[list[str]] = []
        try:
            for rule in self.url_map._rules:
                if rule.defaults or rule.alias or rule.redirect_to is not None or rule.websocket:
                    raise _Ineligible(rule.rule)
            self._walk(self.url_map._matcher._root, [], True, statics, unsafe)
        except (_Ineligible, AttributeError):  # AttributeError: a Werkzeug without these
            return _Table(count)
        eligible = not any("\x00" in s for s in statics)
        return _Table(count, eligible, frozenset(statics), tuple(unsafe))

    def _walk(
        self, state: Any, chain: list[str], static_only: bool, statics: set[str], unsafe: list
    ) -> None:
        for rule in state.rules:
            for converter in rule._converters.values():
                if type(converter).to_python is not BaseConverter.to_python:
                    raise _Ineligible(rule.rule)
        for key, sub in state.static.items():
            statics.add(key)
            self._walk(sub, [*chain, key], static_only, statics, unsafe)
        for part, sub in state.dynamic:
            if part.final or part.suffixed or not _PLAIN_PART.fullmatch(part.content):
                if not static_only:
                    raise _Ineligible(part.content)
                unsafe.append(chain)  # paths under this prefix: Werkzeug's match each time
                self._collect(sub, statics)
                continue
            self._walk(sub, chain, False, statics, unsafe)

    def _collect(self, state: Any, statics: set[str]) -> None:
        """Static keys under an unsafe prefix: kept as they are (a superset is harmless)."""
        statics.update(state.static)
        for sub in state.static.values():
            self._collect(sub, statics)
        for _, sub in state.dynamic:
            self._collect(sub, statics)


class ShapedAdapter(MapAdapter):
    """A :class:`MapAdapter` whose request match (Flask's ``match(return_rule=True)``) asks
    :class:`Shapes` first; every other call, and every answer Shapes leaves, is Werkzeug's."""

    shapes: Shapes

    def match(  # type: ignore[override]
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: Any = None,
        websocket: bool | None = None,
    ) -> tuple[Any, Any]:
        if (
            path_info is None
            and method is None
            and query_args is None
            and websocket is None
            and not self.websocket
            and self.subdomain is not None
            and not self.map.host_matching
        ):
            found = self.shapes.match(self.subdomain, self.path_info, self.default_method.upper())
            if found is not None:
                return found if return_rule else (found[0].endpoint, found[1])
        return super().match(path_info, method, return_rule, query_args, websocket)
