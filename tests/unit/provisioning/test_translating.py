"""``translating`` is a small class now, not a generator context manager: it must still turn
exactly the directory's failures into SCIM errors (chained) and leave everything else be."""

from __future__ import annotations

import pytest

from gateway.errors import EntryExists, NotFound, ScimError, Uniqueness
from gateway.provisioning.errors import to_scim_error, translating

EXISTS = EntryExists("add", "uid=x,dc=x", 68)


def test_a_directory_error_becomes_the_tables_answer_chained() -> None:
    with pytest.raises(ScimError) as caught, translating("User"):
        raise EXISTS
    expected = to_scim_error(EXISTS, "User")
    assert isinstance(caught.value, Uniqueness)
    assert (caught.value.status, caught.value.detail) == (expected.status, expected.detail)
    assert caught.value.__cause__ is EXISTS
    assert caught.value.__suppress_context__


@pytest.mark.parametrize("error", [ValueError("x"), NotFound("gone"), KeyboardInterrupt()])
def test_anything_else_passes_through_untouched(error: BaseException) -> None:
    with pytest.raises(type(error)) as caught, translating("User"):
        raise error
    assert caught.value is error


def test_a_block_that_raises_nothing_gives_its_result() -> None:
    with translating("User") as entered:
        done = 1
    assert entered is None and done == 1


def test_each_use_is_on_its_own() -> None:
    guard = translating("Group")
    for _ in range(2):  # a class instance may be entered again, as a new generator could
        with pytest.raises(Uniqueness), guard:
            raise EXISTS
