"""slapd's diagnostic messages → the attribute named in a refused write's SCIM detail."""

from __future__ import annotations

import pytest

from gateway.provisioning.refusals import refused_attribute


@pytest.mark.parametrize(
    ("message", "attribute"),
    [
        ("homeDirectory: value #0 invalid per syntax", "homeDirectory"),
        ("modify/add: mail: value #0 already exists", "mail"),
        ("attribute 'c' not allowed", "c"),
        ("object class 'inetOrgPerson' requires attribute 'sn'", "sn"),
        ("description;lang-en: value #1 invalid per syntax", "description"),
        ("", None),
        ("some other text", None),
    ],
)
def test_the_refused_attribute_is_read_from_slapds_message(
    message: str, attribute: str | None
) -> None:
    assert refused_attribute(message) == attribute
