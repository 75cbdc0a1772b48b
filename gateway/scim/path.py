"""PATCH paths: RFC 7644 §3.5.2 ``PATH = attrPath / valuePath [subAttr]``.

Does: parse ``userName``, ``name.givenName``, ``emails[type eq "work"].value``,
``members[value eq "..."]`` and their URN-qualified forms into a ``PatchPath``, raising
``InvalidPath`` (RFC 7644 §3.12) with the position and what was expected.

Does not: check that the attribute exists (``schema.ResourceType.resolve``), nor accept the
``attrExp`` form of RFC 7644 erratum 7122 (``schemas eq "urn:..."`` as a path).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from gateway.errors import InvalidPath
from gateway.scim.filter import MAX_FILTER_LENGTH, AttrPath, Filter, FilterParser

_SUB_ATTR = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*|\$ref")


@dataclass(frozen=True, slots=True)
class PatchPath:
    """The target of one PATCH operation.

    ``attr`` holds the attribute and, for ``name.givenName``, its sub-attribute;
    ``value_filter`` selects values of a multi-valued attribute; ``sub_attr`` is the
    ``.value`` after ``]`` (only with a filter).
    """

    attr: AttrPath
    value_filter: Filter | None = None
    sub_attr: str | None = None

    def text(self) -> str:
        """A readable rendering for error messages (the filter is summarised as ``[...]``)."""
        if self.value_filter is None:
            return self.attr.qualified()
        tail = "" if self.sub_attr is None else f".{self.sub_attr}"
        return f"{self.attr.qualified()}[...]{tail}"


def parse_path(text: str) -> PatchPath:
    """Parse a PATCH ``path`` (RFC 7644 §3.5.2); surrounding blanks are ignored.

    Short paths are parsed once per process (``_parsed``): a ``PatchPath`` is frozen all
    the way down (filter nodes too), so one parse serves every request naming that path,
    and an error is raised anew each time (``lru_cache`` keeps no exceptions).
    """
    if not isinstance(text, str):
        raise InvalidPath("the path must be a string")
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidPath(f"the path is longer than {MAX_FILTER_LENGTH} characters")
    if len(text) <= _CACHED_LENGTH:
        return _parsed(text)
    return _parse(text)


_CACHED_LENGTH = 256  # 1,024 paths of at most this: the cache stays small whatever is sent


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> PatchPath:
    return _parse(text)


def _parse(text: str) -> PatchPath:
    stripped = text.strip()
    if not stripped:
        raise InvalidPath("the path is empty")
    parser = FilterParser(stripped, InvalidPath, "path")
    attr = parser.parse_attr_path(relative=False)
    value_filter: Filter | None = None
    sub_attr: str | None = None
    if parser.peek("["):
        node, _ = parser.parse_value_path(attr, 0)
        value_filter = node.filter
        if parser.peek("."):
            parser.pos += 1
            match = _SUB_ATTR.match(parser.text, parser.pos)
            if match is None:
                parser.fail("a sub-attribute name after '].'")
            sub_attr = match.group()
            parser.pos = match.end()
    if not parser.at_end():
        expected = (
            "the end of the path" if value_filter is not None else "'[' or the end of the path"
        )
        parser.fail(expected)
    return PatchPath(attr, value_filter, sub_attr)
