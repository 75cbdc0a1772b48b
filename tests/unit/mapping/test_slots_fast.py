"""Shortcuts in the mapping's per-value helpers, held to the general answers they replace:
``is_mapping`` to ``isinstance(value, Mapping)``, ``meta`` with equal timestamps to two
conversions, the string converter to its general check, and ``to_image``'s one-value tail
to what rules sharing an LDAP attribute write."""

from __future__ import annotations

from collections import OrderedDict, UserDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from gateway.errors import InvalidValue
from gateway.mapping import translate
from gateway.mapping.converters import REGISTRY, generalized_time_to_iso
from gateway.mapping.loader import load_mapping, load_mapping_text
from gateway.mapping.slots import is_mapping

ROOT = Path(__file__).resolve().parents[3]


class _Custom(Mapping[str, Any]):
    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class _Text(str):
    pass


class _Items(list[Any]):
    pass


VALUES: list[Any] = [
    {},
    {"a": 1},
    OrderedDict(a=1),
    UserDict(a=1),
    MappingProxyType({"a": 1}),
    _Custom(),
    [],
    [{"a": 1}],
    _Items(),
    "",
    "text",
    _Text("x"),
    0,
    1.5,
    True,
    None,
    (),
    set(),
    b"bytes",
    object(),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_is_mapping_answers_as_isinstance(value: Any) -> None:
    assert is_mapping(value) is isinstance(value, Mapping)


@pytest.mark.parametrize(
    ("created", "modified"),
    [
        ("20260101000000Z", "20260101000000Z"),
        ("20260101000000Z", "20260102030405Z"),
        ("20260101000000.5Z", "20260101000000.5Z"),
        ("not a time", "not a time"),
        ("19991231235959+0100", "19991231235959+0100"),
        ("", ""),
        (None, None),
        (None, "20260101000000Z"),
        ("20260101000000Z", None),
    ],
)
def test_meta_with_equal_timestamps_is_two_conversions(
    created: str | None, modified: str | None
) -> None:
    rm = load_mapping(ROOT / "mappings" / "openldap.yaml")["User"]
    attributes: dict[str, tuple[str, ...]] = {"entrycsn": ("20260101000000.000000Z#0#0#0",)}
    if created is not None:
        attributes["createtimestamp"] = (created,)
    if modified is not None:
        attributes["modifytimestamp"] = (modified,)
    expected: dict[str, Any] = {"resourceType": "User"}
    if created:
        expected["created"] = generalized_time_to_iso(created)
    if modified:
        expected["lastModified"] = generalized_time_to_iso(modified)
    expected["version"] = 'W/"20260101000000.000000Z#0#0#0"'
    assert translate._meta(rm, attributes) == expected


def _string_to_ldap_general(value: object) -> str:
    """The string converter without its shortcut for a plain ``str``."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected a string")
    return str(value)


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_the_string_converter_answers_as_without_its_shortcut(value: Any) -> None:
    convert = REGISTRY["string"].to_ldap
    try:
        expected: Any = _string_to_ldap_general(value)
    except ValueError as err:
        expected = ("refused", str(err))
    try:
        got: Any = convert(value)
    except ValueError as err:
        got = ("refused", str(err))
    assert got == expected and type(got) is type(expected)


SHARED = """\
version: 1
User:
  base_dn: ou=People,dc=example,dc=org
  object_classes: [top, person, organizationalPerson, inetOrgPerson]
  rdn_attribute: uid
  attributes:
    - scim: userName
      ldap: uid
    - scim: name.familyName
      ldap: sn
      default: ["{userName}"]
    - scim: name.formatted
      ldap: cn
      default: ["{userName}"]
    - scim: emails[type eq "work"].value
      ldap: mail
    - scim: emails[type eq "home"].value
      ldap: mail
"""


@pytest.mark.parametrize(
    ("emails", "mail"),
    [
        ([], None),
        ([{"type": "work", "value": "a@x"}], ("a@x",)),
        ([{"type": "home", "value": "b@x"}], ("b@x",)),
        ([{"type": "work", "value": "a@x"}, {"type": "home", "value": "b@x"}], ("a@x", "b@x")),
        ([{"type": "work", "value": "a@x"}, {"type": "home", "value": "a@x"}], ("a@x",)),
        ([{"type": "home", "value": "b@x"}, {"type": "work", "value": "a@x"}], ("a@x", "b@x")),
        ([{"type": "work", "value": "a\x00@x"}], "refused"),
        ([{"type": "work", "value": "a@x"}, {"type": "home", "value": "\x00"}], "refused"),
    ],
)
def test_rules_sharing_an_attribute_write_each_value_once_in_rule_order(
    emails: list[dict[str, str]], mail: Any
) -> None:
    """One value under a new key is stored as it is; a second rule's value joins the first's
    without duplicates; a NUL anywhere is refused (translate.to_image's tail)."""
    rm = load_mapping_text(SHARED)["User"]
    resource = {"userName": "u", "emails": emails}
    try:
        image = translate.to_image(rm, resource, {})
    except InvalidValue as err:
        assert mail == "refused"
        assert "NUL" in err.detail
        return
    assert image.attributes.get("mail") == mail
    assert image.attributes["uid"] == ("u",) and image.attributes["sn"] == ("u",)
