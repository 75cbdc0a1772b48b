"""contextCSN vectors, "caught up", and exact modifies for delta-syncrepl (no LDAP)."""

from __future__ import annotations

import pytest

from gateway.directory.entry import Modification, ModOp
from gateway.directory.ldapfilter import Equal, Not
from gateway.directory.replication import behind_seconds, caught_up, lag, plan_exact, vector

SUFFIX = "dc=example,dc=org"
A1 = "20261202203427.890319Z#000000#001#000000"
A2 = "20261202203428.000001Z#000000#001#000000"
B1 = "20261202203427.500000Z#000000#002#000000"
B2 = "20261202203429.000000Z#000003#002#000000"
P = "cn=placeholder,dc=example,dc=org"
X = "uid=x,ou=People,dc=example,dc=org"


def test_a_vector_keeps_the_newest_csn_per_server_and_ignores_garbage() -> None:
    v = vector("DC=Example,DC=org", [A1, A2, B1, "not-a-csn"])
    assert v == {(SUFFIX, "001"): A2, (SUFFIX, "002"): B1}


@pytest.mark.parametrize(
    ("candidate", "reference", "expected"),
    [
        ([A2, B2], [A1, B1], True),
        ([A1, B1], [A1, B1], True),
        ([A1, B2], [A2, B1], False),  # behind on server 1
        ([A2], [A2, B1], False),  # never heard of server 2's changes
        ([A1, B1], [], True),  # an empty reference (no syncprov) holds nothing
    ],
)
def test_caught_up_means_at_least_as_new_for_every_server(
    candidate: list[str], reference: list[str], expected: bool
) -> None:
    assert caught_up(vector(SUFFIX, candidate), vector(SUFFIX, reference)) is expected


def test_lag_names_the_servers_behind() -> None:
    assert lag(vector(SUFFIX, [A1, B2]), vector(SUFFIX, [A2, B1])) == [f"001@{SUFFIX}"]


def _present(values: set[tuple[str, str]]):
    asked: list[tuple[str, str]] = []

    def present(attr: str, value: str) -> bool:
        asked.append((attr, value))
        return (attr, value) in values

    return present, asked


def test_member_add_with_the_placeholder_still_there_drops_the_no_op_add() -> None:
    """The gateway's [add X, add placeholder, delete placeholder] on an empty group."""
    present, asked = _present({("member", P)})
    changes = [
        Modification("member", ModOp.ADD, (X,)),
        Modification("member", ModOp.ADD, (P,)),
        Modification("member", ModOp.DELETE, (P,)),
    ]
    plan = plan_exact(changes, present)
    assert plan is not None
    assert plan.changes == (
        Modification("member", ModOp.ADD, (X,)),
        Modification("member", ModOp.DELETE, (P,)),
    )
    assert plan.guards == (Not(Equal("member", X)), Equal("member", P))
    assert asked == [("member", X), ("member", P)]  # once per value


def test_member_add_without_the_placeholder_keeps_add_then_delete() -> None:
    present, _ = _present(set())
    changes = [
        Modification("member", ModOp.ADD, (X,)),
        Modification("member", ModOp.ADD, (P,)),
        Modification("member", ModOp.DELETE, (P,)),
    ]
    plan = plan_exact(changes, present)
    assert plan is not None and plan.changes == tuple(changes)


def test_adding_a_present_value_and_deleting_an_absent_one_changes_nothing() -> None:
    present, _ = _present({("member", X)})
    plan = plan_exact(
        [Modification("member", ModOp.ADD, (X,)), Modification("member", ModOp.DELETE, (P,))],
        present,
    )
    assert plan is not None and plan.changes == ()
    assert plan.guards == (Equal("member", X), Not(Equal("member", P)))


def test_replace_and_increment_pass_through_unchecked() -> None:
    present, asked = _present(set())
    changes = [
        Modification("title", ModOp.REPLACE, ("t",)),
        Modification("uidNumber", ModOp.INCREMENT, ("1",)),
    ]
    plan = plan_exact(changes, present)
    assert plan is not None and plan.changes == tuple(changes) and not asked


def test_value_changes_mixed_with_a_replace_of_the_same_attribute_are_left_alone() -> None:
    present, _ = _present(set())
    changes = [
        Modification("member", ModOp.REPLACE, (P,)),
        Modification("member", ModOp.ADD, (X,)),
    ]
    assert plan_exact(changes, present) is None


def test_behind_seconds_reads_the_clock_time_in_the_csns() -> None:
    assert behind_seconds(vector(SUFFIX, [A2, B2]), vector(SUFFIX, [A1, B1])) == 0.0
    assert behind_seconds(vector(SUFFIX, [A1, B2]), vector(SUFFIX, [A2, B1])) == pytest.approx(
        0.109682, abs=1e-6
    )
    assert behind_seconds(vector(SUFFIX, [A1]), vector(SUFFIX, [A1, B1])) == float("inf")
