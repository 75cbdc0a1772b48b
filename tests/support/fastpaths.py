"""What the tests holding a one-pass reader to its element-by-element twin share: a generated
piece of BER framed by stray bytes and damaged one way, and a reader's outcome as a value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from gateway.directory import ber, messages


def framed(
    draw: Callable[[Any], Any], body: bytes, defect: str, byte: st.SearchStrategy[int]
) -> tuple[bytes, int, int]:
    """``body`` between up to three stray bytes each side, then (``defect``) one byte flipped,
    the data cut, or a byte inserted within it: the data and the body's start and end."""
    before = draw(st.binary(max_size=3))
    after = draw(st.binary(max_size=3))
    data = before + body + after
    start, end = len(before), len(before) + len(body)
    if defect in ("flip", "cut", "insert") and body:
        at = draw(st.integers(start, end - 1))
        value = draw(byte)
        if defect == "flip":
            data = data[:at] + bytes((value,)) + data[at + 1 :]
        elif defect == "cut":
            data = data[:at]
            end = min(end, len(data))
        else:
            data = data[:at] + bytes((value,)) + data[at:]
            end += draw(st.sampled_from([0, 1]))
    return data, start, end


def outcome(read: Callable[..., Any], *args: object, size: int) -> object:
    """``read(*args, budget)``'s answer and the budget left, or the error it raised."""
    budget = messages.Budget(size)
    try:
        return ("read", read(*args, budget), budget.left)
    except messages.NotText as err:
        return ("NotText", str(err), err.attribute, err.dn)
    except ber.BerError as err:
        return (type(err).__name__, str(err))
