"""Each disable strategy class on its own: keys, reads, writes, filters, placement (no LDAP).

The same behaviours against the real slapd: tests/e2e/test_write_policies.py (boolean, move),
tests/e2e/test_disable_stays.py (ppolicy and its mark), tests/e2e/test_disable_bitmask.py.
"""

from __future__ import annotations

import pytest

from gateway.directory import ldapfilter as lf
from gateway.errors import ConfigError, InvalidFilter, InvalidValue
from gateway.mapping import changes, placement, translate
from gateway.mapping.disable import STRATEGIES, Bitmask, Boolean, Move, Ppolicy
from gateway.mapping.loader import load_mapping_text

PEOPLE = "ou=People,dc=example,dc=org"
HEAD = f"""version: 1
User:
  base_dn: {PEOPLE}
  object_classes: [inetOrgPerson]
  rdn_attribute: uid
  attributes:
    - {{scim: userName, ldap: uid}}
"""


def load(disable: str):
    return load_mapping_text(HEAD + "  disable: " + disable + "\n")["User"]


def problems(disable: str) -> str:
    with pytest.raises(ConfigError) as err:
        load(disable)
    return "\n".join(err.value.problems)


# ------------------------------------------------------------------ keys


def test_every_strategy_is_reachable_by_its_name() -> None:
    assert {"ppolicy", "boolean", "move", "bitmask"} == set(STRATEGIES)
    assert isinstance(load("{strategy: ppolicy}").disable, Ppolicy)
    assert isinstance(load("{strategy: bitmask, attribute: shadowFlag, flag: 2}").disable, Bitmask)


def test_a_key_of_another_strategy_names_the_strategys_own_keys() -> None:
    text = problems("{strategy: move, disabled_base_dn: 'ou=Off,dc=example,dc=org', flag: 2}")
    assert "User.disable.flag: the move strategy does not use 'flag' (its keys: " in text
    assert "disabled_base_dn" in text
    text = problems("{strategy: ppolicy, enabled_value: x}")
    assert "the ppolicy strategy does not use 'enabled_value'" in text


def test_an_unknown_or_missing_strategy_lists_the_strategies() -> None:
    assert "strategy: must be one of: ppolicy, boolean, move, bitmask" in problems(
        "{strategy: lock}"
    )
    assert "must be one of" in problems("{attribute: x}")
    assert "expected a mapping" in problems("ppolicy")


def test_each_strategy_checks_what_its_keys_mean() -> None:
    assert "needs 'attribute' and 'disabled_value'" in problems("{strategy: boolean}")
    assert "enabled_value: must differ" in problems(
        "{strategy: boolean, attribute: a, disabled_value: X, enabled_value: x}"
    )
    assert "go together" in problems("{strategy: ppolicy, mark_attribute: a}")
    assert "needs 'disabled_base_dn'" in problems("{strategy: move}")
    assert "is not a valid DN" in problems("{strategy: move, disabled_base_dn: nonsense}")
    assert "flag: 6 is not one bit" in problems("{strategy: bitmask, attribute: a, flag: 6}")
    assert "initial_value: is the word of an enabled entry" in problems(
        "{strategy: bitmask, attribute: a, flag: 2, initial_value: 514}"
    )
    assert "flag: Missing data" in problems("{strategy: bitmask, attribute: a}")
    assert "flag: Not a valid integer" in problems("{strategy: bitmask, attribute: a, flag: '2'}")
    assert "attribute: an LDAP attribute name" in problems(
        "{strategy: bitmask, attribute: 'a)(b', flag: 2}"
    )


# ------------------------------------------------------------------ reads


def test_what_each_strategy_reads() -> None:
    mark = Ppolicy(mark_attribute="pwdPolicySubentry", mark_value="cn=off")
    assert mark.read_attributes() == ("pwdAccountLockedTime", "pwdPolicySubentry")
    assert Move(disabled_base_dn="ou=Off").read_attributes() == ()
    assert Bitmask(attribute="userAccountControl", flag=2).read_attributes() == (
        "userAccountControl",
    )


def test_how_an_entry_reads() -> None:
    mark = Ppolicy(mark_attribute="pwdPolicySubentry", mark_value="CN=Off")
    assert mark.is_disabled("uid=a", {"pwdpolicysubentry": ("cn=off",)})  # either mark
    assert mark.is_disabled("uid=a", {"pwdaccountlockedtime": ("000001010000Z",)})
    assert not mark.is_disabled("uid=a", {"pwdaccountlockedtime": ("20240101000000Z",)})
    move = Move(disabled_base_dn="ou=Off,dc=x")
    assert move.is_disabled("uid=a,ou=off,dc=x", {}) and not move.is_disabled("uid=a,dc=x", {})
    bits = Bitmask(attribute="uac", flag=2)
    assert bits.is_disabled("", {"uac": ("514",)}) and bits.is_disabled("", {"uac": ("-1",)})
    assert not bits.is_disabled("", {"uac": ("512",)}) and not bits.is_disabled("", {})
    assert not bits.is_disabled("", {"uac": ("garbage",)})


# ------------------------------------------------------------------ writes


def test_images_and_placement() -> None:
    attrs: dict[str, tuple[str, ...]] = {}
    assert (
        Boolean(attribute="flag", disabled_value="off", enabled_value="on").image(
            True, attrs, "ou=P", "ou=P"
        )
        == "ou=P"
    )
    assert attrs == {"flag": ("on",)}
    move = Move(disabled_base_dn="ou=Off,dc=x")
    assert move.image(False, {}, "ou=P,dc=x", "ou=P,dc=x") == "ou=Off,dc=x"
    assert move.image(True, {}, "ou=Off,dc=x", "ou=P,dc=x") == "ou=P,dc=x"
    assert move.image(True, {}, "ou=Sub,ou=P,dc=x", "ou=P,dc=x") == "ou=Sub,ou=P,dc=x"
    bits = Bitmask(attribute="uac", flag=2, initial_value=512)
    attrs = {}
    bits.image(False, attrs, "ou=P", "ou=P")
    assert attrs == {"uac": ("514",)}
    assert bits.always_written() == ("uac",) and Ppolicy().always_written() == ()


def test_bitmask_settles_on_the_stored_word() -> None:
    bits = Bitmask(attribute="uac", flag=2, initial_value=512)
    assert bits.settle("uac", ("66048",), ("514",)) == ("66050",)  # other bits kept
    assert bits.settle("uac", ("66050",), ("512",)) == ("66048",)
    assert bits.settle("uac", (), ("514",)) == ("514",)  # no word yet: the initial one
    assert bits.settle("mail", ("1",), ("2",)) == ("2",)  # not its attribute
    with pytest.raises(InvalidValue, match="not an integer"):
        bits.settle("uac", ("x",), ("514",))


def test_bitmask_update_through_translate_and_diff() -> None:
    rm = load("{strategy: bitmask, attribute: shadowFlag, flag: 2, initial_value: 512}")
    stored = {"uid": ("a",), "shadowflag": ("65539",)}  # 65536 | 2 | 1: disabled
    dn = f"uid=a,{PEOPLE}"
    old = translate.to_resource(rm, dn, stored, {}, hide_derived=True)
    assert old["active"] is False
    before = translate.to_image(rm, old, {}, current_dn=dn, stored=stored)
    after = translate.to_image(rm, {**old, "active": True}, {}, current_dn=dn)
    mods = changes.diff(rm, before, after).modifications
    assert [(m.attr, m.values) for m in mods] == [("shadowflag", ("65537",))]
    same = translate.to_image(rm, old, {}, current_dn=dn)
    assert changes.diff(rm, before, same).empty  # still disabled: nothing to write


def test_marks_before_image_writes_back_a_lost_mark() -> None:
    rm = load("{strategy: ppolicy, mark_attribute: pwdPolicySubentry, mark_value: cn=off}")
    stored = {"uid": ("a",), "pwdpolicysubentry": ("cn=off",)}  # the lock was dropped
    dn = f"uid=a,{PEOPLE}"
    old = translate.to_resource(rm, dn, stored, {}, hide_derived=True)
    before = translate.to_image(rm, old, {}, current_dn=dn, stored=stored)
    after = translate.to_image(rm, old, {}, current_dn=dn)
    mods = changes.diff(rm, before, after).modifications
    assert [(m.attr, m.values) for m in mods] == [("pwdaccountlockedtime", ("000001010000Z",))]


# ------------------------------------------------------------------ filters


def test_disabled_filters() -> None:
    assert Boolean(attribute="f", disabled_value="off").disabled_filter() == lf.Equal("f", "off")
    marks = Ppolicy(mark_attribute="m", mark_value="v").disabled_filter()
    assert lf.render(marks) == "(|(pwdAccountLockedTime=000001010000Z)(m=v))"
    bits = Bitmask(attribute="userAccountControl", flag=2).disabled_filter()
    assert lf.render(bits) == "(userAccountControl:1.2.840.113556.1.4.803:=2)"
    assert lf.validate_raw(lf.render(bits)) is None
    with pytest.raises(InvalidFilter, match="joined to the rest"):
        Move(disabled_base_dn="ou=Off").disabled_filter()


def test_what_a_blind_write_asserts_per_strategy() -> None:
    """A PATCH written without reading the entry must not skip what the usual update path
    would write back: marks of a disabled entry (enabled entries only), nothing for move, and
    no blind write at all under bitmask (its stored word may be rewritten)."""
    marks = Ppolicy(mark_attribute="m", mark_value="v").blind_write_guards()
    assert marks is not None
    assert [lf.render(g) for g in marks] == ["(!(|(pwdAccountLockedTime=000001010000Z)(m=v)))"]
    flag = Boolean(attribute="f", disabled_value="off").blind_write_guards()
    assert flag == (lf.Not(lf.Equal("f", "off")),)
    assert Move(disabled_base_dn="ou=Off").blind_write_guards() == ()
    assert Bitmask(attribute="uac", flag=2).blind_write_guards() is None


def test_only_move_changes_where_entries_are_searched() -> None:
    moved = load("{strategy: move, disabled_base_dn: 'ou=Off,dc=example,dc=org'}")
    flagged = load("{strategy: bitmask, attribute: shadowFlag, flag: 2}")
    assert placement.area(moved).base == "dc=example,dc=org" and moved.moves_disabled
    assert placement.area(flagged).base == PEOPLE and not flagged.moves_disabled
