"""Answers of OpenLDAP's dereference control (slapo-deref, draft-masarati-ldap-deref): the
entries an attribute's values name, read with the entry that holds them.

Kept apart from :mod:`~gateway.directory.messages` because it is the one answer whose size
grows with the directory (a 20,000-member group's read holds 20,000 results) and so has its
own decoding strategy: results alike are compared as bytes with a shape decoded once, and
kept compact (:class:`Linked`). The budget, the element cost and the value reader are the
ones every other answer is decoded with.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import Any, overload

from gateway.directory import ber
from gateway.directory.entry import Entry
from gateway.directory.reading import (
    ELEMENT_COST,
    OVER_BUDGET,
    Budget,
    NotText,
    loggable,
    read_values,
)


def deref_response(value: bytes, begin: int, finish: int, budget: Budget) -> dict[str, Linked]:
    """``SEQUENCE OF SEQUENCE { derefAttr, derefVal LDAPDN, attrVals [0] OPTIONAL }`` at
    ``value[begin:finish]``: per attribute, the entries named (with no attributes when
    unreadable or dangling).

    The hot loop of a big group's read: one result per member, 20,000 in one answer, each
    about ten BER elements, nearly all alike (``member``, a DN, ``entryUUID`` and the same
    object classes). Walking every element in Python cost 20 µs a member; instead, each
    result is first compared with the results already decoded in full (:class:`_Shape`): one
    whose bytes equal a known shape's outside its DN and its values' contents has that
    shape's structure, so only the DN and those values are decoded. Anything else is
    decoded in full (:func:`_deref_result`), element by element, and may become a shape.
    What repeats is made once per answer: attribute names, and value sets seen before
    (``objectClass``), shared between entries and charged to the budget once. Results alike
    are kept as their DN and values only (:class:`Linked`).
    """
    if finish - begin < 2:
        raise ber.BerError("truncated element")
    tag, pos, end = ber.header(value, begin)
    if tag != ber.SEQUENCE or end > finish:
        raise ber.BerError("dereference control: not a sequence")
    seen = _Seen()
    out: dict[str, Linked] = {}
    shapes: dict[int, list[_Shape]] = {}
    while pos < end:
        if pos + 2 < end and value[pos] == ber.SEQUENCE and value[pos + 1] == 0x81:
            start = pos + 3  # the usual result: 128 to 255 bytes (ber.header, inlined)
            stop = start + value[pos + 2]
        else:
            tag, start, stop = ber.header(value, pos)
            if tag != ber.SEQUENCE:
                raise ber.BerError("dereference control: malformed result")
        if stop > end:
            raise ber.BerError("dereference control: malformed result")
        shape = None
        for known in shapes.get(stop - pos, ()):
            for a, b, piece in known.pieces:
                if value[pos + a : pos + b] != piece:
                    break
            else:
                shape = known
                break
        if shape is not None and shape.lone:  # the usual member: its DN and its id
            linked = out.get(shape.name)
            if linked is None:
                out[shape.name] = linked = Linked()
            dn, one = shape.one(value, pos, budget)
            linked.add_lone(dn, one, shape)
            pos = stop
            continue
        if shape is not None:
            name = shape.name
            dn, row = shape.row(value, pos, budget)
        else:
            name, entry, shape = _deref_result(value, pos, start, stop, budget, seen)
            dn, row = entry.dn, entry
            if seen.shapes < _MAX_SHAPES:
                alike = shapes.setdefault(stop - pos, [])
                if len(alike) < _SHAPES_PER_LENGTH:
                    alike.append(shape)
                    seen.shapes += 1
        linked = out.get(name)
        if linked is None:
            out[name] = linked = Linked()
        linked.add(dn, row)
        pos = stop
    return out


class Linked(Sequence[Entry]):
    """The entries one attribute's dereference results named, in order, kept compact: for
    a result read through a :class:`_Shape`, its DN and a row of its own values; the
    :class:`Entry` (its dict, its tuples) is made when the entry is read. A big group's
    members are read once, one at a time, so 100,000 of them never exist as Entry objects
    together (about 230 bytes each, besides their DN and id).

    A row of a shape with one value of its own (a member's ``entryUUID``: the object
    classes are shared) is kept as that value alone, its shape noted once per run of such
    rows (``_starts``, ``_shapes``): 56 bytes less per member than a (shape, value) tuple,
    5.6 MB of a 100,000-member group's 24 MB."""

    __slots__ = ("_shapes", "_starts", "dns", "rows")

    def __init__(self) -> None:
        self.dns: list[str] = []
        self.rows: list[Entry | tuple[Any, ...] | str] = []
        self._starts: list[int] = []  # where each run of lone-value rows begins
        self._shapes: list[_Shape] = []  # and the shape of that run

    def add(self, dn: str, row: Entry | tuple[Any, ...]) -> None:
        """The next entry: an Entry, or a row from :meth:`_Shape.row`."""
        self.dns.append(dn)
        self.rows.append(row)

    def add_lone(self, dn: str, value: str, shape: _Shape) -> None:
        """The next entry: a result of a :attr:`_Shape.lone` shape, kept as its one value."""
        if not self._shapes or self._shapes[-1] is not shape:
            self._starts.append(len(self.rows))
            self._shapes.append(shape)
        self.dns.append(dn)
        self.rows.append(value)

    def __len__(self) -> int:
        return len(self.dns)

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Entry, ...]: ...
    def __getitem__(self, index: int | slice) -> Entry | tuple[Entry, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self.dns))))
        if index < 0:
            index += len(self.dns)
            if index < 0:
                raise IndexError("Linked index out of range")
        return _made(self.dns[index], self._row(index))

    def __iter__(self) -> Iterator[Entry]:
        return (_made(dn, row) for dn, row in self._full_rows())

    def _row(self, index: int) -> Entry | tuple[Any, ...]:
        row = self.rows[index]
        if type(row) is str:
            return (self._shapes[bisect.bisect_right(self._starts, index) - 1], row)
        return row  # type: ignore[return-value]

    def _full_rows(self) -> Iterator[tuple[str, Entry | tuple[Any, ...]]]:
        """(DN, Entry or (shape, values...)) of each entry in order, lone values' tuples
        made one at a time."""
        starts, shapes = self._starts, self._shapes
        run = -1
        following = starts[0] if starts else None
        for index, (dn, row) in enumerate(zip(self.dns, self.rows, strict=True)):
            if type(row) is str:
                while following is not None and following <= index:
                    run += 1
                    following = starts[run + 1] if run + 1 < len(starts) else None
                yield dn, (shapes[run], row)
            else:
                yield dn, row  # type: ignore[misc]

    def pick(self, names: tuple[str, ...]) -> Iterator[tuple[str, tuple[tuple[str, ...], ...]]]:
        """Each entry's DN and the values of ``names`` (lower-case; ``()`` where it has
        none), in order, without making its Entry: for a caller that needs two attributes
        of each of 100,000 entries."""
        plans: dict[_Shape, tuple[tuple[tuple[str, ...], int, bool], ...]] = {}
        shape: _Shape | None = None
        starts, shapes = self._starts, self._shapes
        run = -1
        following = starts[0] if starts else len(self.rows)
        lone: tuple[tuple[str, ...] | None, ...] = ()  # the values of names, None for its own
        first: tuple[str, ...] | None = None  # lone is (first, None): the usual plan
        for index, (dn, row) in enumerate(zip(self.dns, self.rows, strict=True)):
            if type(row) is str:
                if index >= following:
                    run += 1
                    following = starts[run + 1] if run + 1 < len(starts) else len(self.rows)
                    lone = tuple(c if not i else None for c, i, _ in shapes[run].plan(names))
                    first = lone[0] if len(lone) == 2 and lone[1] is None else None
                if first is not None:
                    yield dn, (first, (row,))
                else:
                    yield dn, tuple([(row,) if c is None else c for c in lone])
                continue
            if isinstance(row, Entry):
                yield dn, tuple([row.attributes.get(n, ()) for n in names])
                continue
            if row[0] is not shape:
                shape = row[0]
                plan = plans.get(shape)
                if plan is None:
                    plan = plans[shape] = shape.plan(names)
                # the usual plan: shared classes, then one value of the row's own
                pair = (
                    (plan[0][0], plan[1][1])
                    if len(plan) == 2 and not plan[0][1] and plan[1][2]
                    else None
                )
            if pair is not None:
                yield dn, (pair[0], (row[pair[1]],))
            else:
                yield (
                    dn,
                    tuple([c if not i else (row[i],) if one else row[i] for c, i, one in plan]),
                )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Linked | tuple | list):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Linked({tuple(self)!r})"


def _made(dn: str, row: Entry | tuple[Any, ...]) -> Entry:
    return row if isinstance(row, Entry) else row[0].make(dn, row)


_SHARED_SETS = 64
_SHARED_SET_BYTES = 1024
"""How many distinct multi-valued sets one answer's dereference results share, of at most
how many bytes each (object classes: a few dozen)."""
_MAX_SHAPES = 64
_SHAPES_PER_LENGTH = 4
"""Shapes kept per answer, and per result length (each result is compared with those of
its length): bounds the comparisons an answer of results all different can cause."""


class _Seen:
    """What one answer's dereference results have in common, decoded once."""

    __slots__ = ("names", "sets", "shapes")

    def __init__(self) -> None:
        self.names: dict[bytes, str] = {}
        self.sets: dict[bytes, tuple[str, ...]] = {}
        self.shapes = 0

    def name(self, raw: bytes, what: str) -> str:
        name = self.names.get(raw)
        if name is None:
            try:
                name = raw.decode("ascii").lower()
            except UnicodeDecodeError:
                raise ber.BerError(f"{what} is not ASCII") from None
            self.names[raw] = name
        return name


class _Shape:
    """The bytes of a dereference result decoded in full, less its variable parts (the DN
    and the contents of values not shared): a result equal to it outside those spans, with
    the same lengths, has the same structure — same tags, lengths, names, shared sets."""

    __slots__ = ("cost", "dn", "lone", "name", "pieces", "several", "shared", "single")

    def __init__(
        self,
        name: str,
        dn: tuple[int, int],
        attrs: list[tuple[str, tuple[str, ...] | None, tuple[tuple[int, int], ...]]],
        data: bytes,
        start: int,
        stop: int,
    ) -> None:
        self.name = name
        self.dn = dn
        spans = sorted([dn, *(span for _, _, spans in attrs for span in spans)])
        pieces: list[tuple[int, int, bytes]] = []
        at = 0
        for a, b in [*spans, (stop - start, stop - start)]:
            if a > at:
                pieces.append((at, a, data[start + at : start + a]))
            at = b
        self.pieces = pieces
        # what the full decoding charges for such a result (shared sets: nothing more)
        self.cost = 3 * ELEMENT_COST + dn[1] - dn[0]
        for _, shared, spans in attrs:
            self.cost += 2 * ELEMENT_COST
            if shared is None:
                self.cost += sum(ELEMENT_COST + b - a for a, b in spans)
        self.shared = {attr: values for attr, values, _ in attrs if values is not None}
        self.single = tuple(
            (attr, *spans[0]) for attr, values, spans in attrs if values is None and len(spans) == 1
        )
        self.several = tuple(
            (attr, spans) for attr, values, spans in attrs if values is None and len(spans) > 1
        )
        self.lone = len(self.single) == 1 and not self.several  # a row: (shape, one value)

    def _charged_dn(self, data: bytes, pos: int, budget: Budget) -> str:
        """The DN of a result of this shape at ``pos``, once the result is charged to the
        budget as if made an Entry (what :meth:`row` and :meth:`one` both start with)."""
        budget.left -= self.cost
        if budget.left < 0:
            raise ber.BerError(OVER_BUDGET)
        a, b = self.dn
        try:
            return data[pos + a : pos + b].decode("utf-8")
        except UnicodeDecodeError:
            raise NotText("a dereferenced DN", loggable(data, pos + a, pos + b)) from None

    def row(self, data: bytes, pos: int, budget: Budget) -> tuple[str, tuple[Any, ...]]:
        """The DN and the row (this shape, then each single value, then each tuple of
        several) of a result of this shape at ``pos``; charged as if made an Entry."""
        dn = self._charged_dn(data, pos, budget)
        row: list[Any] = [self]
        for name, a, b in self.single:
            try:
                row.append(data[pos + a : pos + b].decode("utf-8"))
            except UnicodeDecodeError:
                raise NotText(name, dn) from None
        for name, spans in self.several:
            try:
                row.append(tuple(data[pos + a : pos + b].decode("utf-8") for a, b in spans))
            except UnicodeDecodeError:
                raise NotText(name, dn) from None
        return dn, tuple(row)

    def one(self, data: bytes, pos: int, budget: Budget) -> tuple[str, str]:
        """The DN and the one value of its own of a result of a :attr:`lone` shape at
        ``pos`` (:meth:`row` without the tuple); charged the same."""
        dn = self._charged_dn(data, pos, budget)
        name, a, b = self.single[0]
        try:
            return dn, data[pos + a : pos + b].decode("utf-8")
        except UnicodeDecodeError:
            raise NotText(name, dn) from None

    def plan(self, names: tuple[str, ...]) -> tuple[tuple[tuple[str, ...], int, bool], ...]:
        """Where each of ``names`` is in a row (see :meth:`Linked.pick`): (values, 0, _)
        for shared or absent ones, (_, index, single?) for a row's own."""
        where: dict[str, tuple[tuple[str, ...], int, bool]] = {}
        i = 1
        for name, _, _ in self.single:
            where[name] = ((), i, True)
            i += 1
        for name, _ in self.several:
            where[name] = ((), i, False)
            i += 1
        return tuple(where.get(n) or (self.shared.get(n, ()), 0, False) for n in names)

    def make(self, dn: str, row: tuple[Any, ...]) -> Entry:
        """The Entry of a row from :meth:`row`."""
        attributes = dict(self.shared)
        i = 1
        for name, _, _ in self.single:
            attributes[name] = (row[i],)
            i += 1
        for name, _ in self.several:
            attributes[name] = row[i]
            i += 1
        return Entry(dn, attributes)


def _deref_result(
    data: bytes, pos: int, start: int, stop: int, budget: Budget, seen: _Seen
) -> tuple[str, Entry, _Shape]:
    """One dereference result decoded element by element, and its shape."""
    fields = ber.children(data, start, stop, 3)
    if len(fields) < 2 or fields[0][0] != ber.OCTET_STRING or fields[1][0] != ber.OCTET_STRING:
        raise ber.BerError("dereference control: malformed result")
    (_, as_, ae), (_, vs, ve) = fields[0], fields[1]
    name = seen.name(data[as_:ae], "dereference control: attribute")
    try:
        dn = data[vs:ve].decode("utf-8")
    except UnicodeDecodeError:
        raise NotText("a dereferenced DN", loggable(data, vs, ve)) from None
    budget.take(3)  # the Entry, its dict and its DN
    budget.left -= ve - vs
    attributes: dict[str, tuple[str, ...]] = {}
    layout: list[tuple[str, tuple[str, ...] | None, tuple[tuple[int, int], ...]]] = []
    if len(fields) > 2 and fields[2][0] == 0xA0:
        listed = ber.children(data, fields[2][1], fields[2][2], budget.elements())
        budget.take(2 * len(listed))  # a name and a tuple's slot each
        for _, ps, pe in listed:
            pair = ber.children(data, ps, pe, 2)
            if len(pair) != 2 or pair[0][0] != ber.OCTET_STRING or pair[1][0] != ber.SET:
                raise ber.BerError("search result entry: malformed attribute")
            (_, ns, ne), (_, ss, se) = pair
            attr = seen.name(data[ns:ne], "attribute description")
            content = data[ss:se]
            values = seen.sets.get(content)
            spans: tuple[tuple[int, int], ...] = ()
            shared = values
            if values is None:
                values = read_values(data, ss, se, budget, attr, dn)
                spans = tuple(
                    (s - pos, e - pos) for _, s, e in ber.children(data, ss, se, len(values))
                )
                if (
                    len(values) > 1
                    and len(content) <= _SHARED_SET_BYTES
                    and len(seen.sets) < _SHARED_SETS
                ):
                    seen.sets[content] = shared = values
                    spans = ()
            if values:
                if attr in attributes:
                    raise ber.BerError(f"attribute {attr} appears twice in one entry")
                attributes[attr] = values
                layout.append((attr, shared, spans))
    if budget.left < 0:
        raise ber.BerError(OVER_BUDGET)
    return name, Entry(dn, attributes), _Shape(name, (vs - pos, ve - pos), layout, data, pos, stop)
