"""What decoding every LDAP answer shares: the memory budget an answer is read under, the
cost charged per element, and text values (UTF-8 or refused).

Apart from :mod:`~gateway.directory.messages` (the operations' answers) and
:mod:`~gateway.directory.deref` (the dereference control's results) so that both charge the
same budget in the same way and refuse the same values.
"""

from __future__ import annotations

from gateway.directory import ber

ELEMENT_COST = 64
"""What decoding one element (entry, attribute, value, control, URI) is charged, in bytes,
besides a value's own bytes: about the smallest Python object that holds it, plus the
pointer to it. An empty value costs two bytes on the wire and this much in memory."""
DEFAULT_BUDGET = 128 << 20
"""What one answer may build when the caller gives no :class:`Budget` (twice the default
answer cap, as ``exchange`` gives)."""


class NotText(ber.BerError):
    """A DN or attribute value that is not UTF-8.

    The gateway's entries hold text (LDAP strings are UTF-8, RFC 4511 §4.1.2; the syntaxes a
    mapping reads are text syntaxes). Replacing the bytes with U+FFFD would hand the client a
    different value and write it back over the original at the next PUT, so the value is
    refused instead, naming the attribute and the entry. The message itself was well formed:
    the exchange reads the answer to its end and keeps the connection (``final``: this was
    the operation's final response).
    """

    def __init__(self, attribute: str, dn: str) -> None:
        super().__init__(f"{attribute} of {dn!r} holds a value that is not UTF-8")
        self.attribute = attribute
        self.dn = dn
        self.final = False


class Budget:
    """How many bytes of objects the answer being read may still build.

    A byte cap on the answer alone does not bound memory: decoding turns an empty value of
    two bytes into an object and a pointer of :data:`ELEMENT_COST`, so a 10 MB answer of
    empty values would take most of a gigabyte. Each element is charged before it is made;
    one budget spans all messages of one answer (see ``exchange``).
    """

    __slots__ = ("left",)

    def __init__(self, size: int = DEFAULT_BUDGET) -> None:
        self.left = size

    def elements(self) -> int:
        """How many more elements (of no bytes of their own) fit."""
        return max(self.left // ELEMENT_COST, 0)

    def take(self, count: int) -> None:
        self.left -= count * ELEMENT_COST
        if self.left < 0:
            raise ber.BerError(OVER_BUDGET)


OVER_BUDGET = "the answer would take more memory to decode than the gateway allows"


def read_values(
    data: bytes, start: int, end: int, budget: Budget, name: str, dn: str
) -> tuple[str, ...]:
    """The OCTET STRING values of ``data[start:end]`` as text, each charged to the budget
    before it is made (the hot loop of reading: no intermediate tuples)."""
    out: list[str] = []
    left = budget.left
    pos = start
    try:
        while pos < end:
            length = data[pos + 1]
            if length < 0x80 and data[pos] == ber.OCTET_STRING:
                s = pos + 2
                pos = s + length
            else:
                tag, s, pos = ber.header(data, pos)
                if tag != ber.OCTET_STRING:
                    raise ber.BerError("attribute value is not an OCTET STRING")
            if pos > end:
                raise ber.BerError("element longer than its container")
            left -= ELEMENT_COST + pos - s
            if left < 0:
                raise ber.BerError(OVER_BUDGET)
            out.append(data[s:pos].decode("utf-8"))
    except IndexError:
        raise ber.BerError("truncated element") from None
    except UnicodeDecodeError:
        raise NotText(name, dn) from None
    budget.left = left
    return tuple(out)


def loggable(data: bytes, start: int, end: int) -> str:
    """Text that is only shown in logs and error messages (diagnostic message, matched DN,
    referral URIs), never stored: invalid UTF-8 is kept visible as ``\\xNN``."""
    return data[start:end].decode("utf-8", errors="backslashreplace")
