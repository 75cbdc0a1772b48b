"""Read back what was written (issue 13, item 1): POST as Entra does, GET, same values.

Entra compares what it reads with what it would send and sends every difference again
(../shared/reference/entra-scim.md §10), so every attribute the shipped mapping stores must come
back exactly as written — including values equal to what the mapping would derive
(``name.formatted`` = givenName + " " + familyName, a familyName equal to the userName).

The attribute set is Entra's default user mapping (entra-scim.md §4 and Microsoft's tutorial's
attribute table): userName, externalId, active, displayName, title, preferredLanguage, name.*,
emails[type eq "work"], phoneNumbers work/mobile/fax, addresses[type eq "work"].* and the
enterprise employeeNumber, department and manager. ``country`` and ``formatted`` of the address
are sent too, as Entra does; the stock schema has no place for them (docs/mapping.md), so they
are dropped, which ``unmapped: ignore`` allows. The e-mail's ``primary: true`` comes back: the
shipped rule declares the work e-mail primary.
"""

from __future__ import annotations

import itertools
import os
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.gateway import Gateway

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
EXAMPLES = int(os.environ.get("READ_BACK_EXAMPLES", "30"))
_names = itertools.count()

# Directory String values: any UTF-8 text with a visible character, no edge blanks (Entra trims)
_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))
text = (
    st.text(alphabet=st.one_of(st.sampled_from('*()\\,+="<>;#/ '), _CHARS), min_size=1, max_size=24)
    .map(str.strip)
    .filter(bool)
)
# LDAP telephone numbers are PrintableString (RFC 4517 §3.3.31)
phone = (
    st.text(alphabet="0123456789 +-().", min_size=1, max_size=20)
    .map(str.strip)
    .filter(lambda v: any(c.isdigit() for c in v))
)
# mail is IA5 (ASCII); filter specials are fine in it
email = st.builds(
    "{}@{}.example".format,
    st.text(alphabet=string.ascii_letters + string.digits + "._+-*()\\", min_size=1, max_size=16),
    st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12),
)


@st.composite
def entra_users(draw: st.DrawFn, manager_id: str) -> dict[str, Any]:
    """A body shaped like Entra's default create (entra-scim.md §4), values drawn at random."""
    given_name, family_name = draw(text), draw(text)
    user_name = f"{draw(text)}-{next(_names)}"  # unique across examples
    if draw(st.booleans()):
        family_name = user_name  # equal to what the mapping derives sn from
    body: dict[str, Any] = {
        "schemas": [USER, ENTERPRISE],
        "externalId": draw(text),
        "userName": user_name,
        "active": draw(st.booleans()),
        "displayName": draw(text),
        "title": draw(text),
        "preferredLanguage": draw(st.sampled_from(["en-US", "fr-FR", "de", "zh-Hant-TW"])),
        "emails": [{"primary": True, "type": "work", "value": draw(email)}],
        "meta": {"resourceType": "User"},
        "name": {
            "formatted": f"{given_name} {family_name}",  # Entra: Join(" ", givenName, surname)
            "familyName": family_name,
            "givenName": given_name,
        },
        "phoneNumbers": [
            {"type": kind, "value": draw(phone)}
            for kind in ("work", "mobile", "fax")
            if draw(st.booleans())
        ],
        "addresses": [
            {
                "type": "work",
                "formatted": draw(text),
                "streetAddress": draw(text),
                "locality": draw(text),
                "region": draw(text),
                "postalCode": draw(text),
                "country": draw(st.sampled_from(["US", "FR", "DE"])),
            }
        ],
        "roles": [],
        ENTERPRISE: {
            "employeeNumber": draw(text),
            "department": draw(text),
            "manager": {"value": manager_id},
        },
    }
    if not body["phoneNumbers"]:
        del body["phoneNumbers"]
    return body


NOT_STORED = {"addresses": ("formatted", "country")}


def stored_part(body: dict[str, Any]) -> dict[str, Any]:
    """What the shipped mapping stores of ``body``, in the form a read gives it."""
    out = {k: v for k, v in body.items() if k not in ("schemas", "meta", "roles")}
    for attr, dropped in NOT_STORED.items():
        out[attr] = [{k: v for k, v in item.items() if k not in dropped} for item in out[attr]]
    return out


def as_read(resource: dict[str, Any], like: dict[str, Any]) -> dict[str, Any]:
    """``resource`` cut to the keys of ``like``; multi-valued lists compared by type."""
    out: dict[str, Any] = {}
    for key, wanted in like.items():
        got = resource.get(key)
        if isinstance(wanted, list):
            out[key] = sorted(got or [], key=lambda i: i.get("type", ""))
        elif key == ENTERPRISE:
            got = dict(got or {})
            if "manager" in got:
                got["manager"] = {"value": got["manager"].get("value")}
            out[key] = got
        else:
            out[key] = got
    return out


def sorted_lists(body: dict[str, Any]) -> dict[str, Any]:
    return {
        k: sorted(v, key=lambda i: i.get("type", "")) if isinstance(v, list) else v
        for k, v in body.items()
    }


@pytest.fixture
def manager_id(gw: Gateway) -> str:
    resp = gw.post("/Users", {"userName": "the-manager"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_entra_default_attributes_read_back_as_written(gw: Gateway, manager_id: str) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not os.environ.get("FUZZ_RANDOM"),
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        print_blob=True,
    )
    @given(body=entra_users(manager_id))
    def post_then_get(body: dict[str, Any]) -> None:
        created = gw.post("/Users", body)
        assert created.status_code == 201, created.get_json()
        expected = sorted_lists(stored_part(body))
        assert as_read(created.get_json(), expected) == expected
        read = gw.get(f"/Users/{created.get_json()['id']}")
        assert read.status_code == 200
        assert as_read(read.get_json(), expected) == expected

    post_then_get()


def test_the_one_address_reads_back_as_one_object_with_its_parts(gw: Gateway) -> None:
    address = {
        "type": "work",
        "streetAddress": "1 Main St",
        "locality": "Springfield",
        "region": "IL",
        "postalCode": "62701",
    }
    created = gw.post("/Users", {"userName": "addr", "addresses": [address]}).get_json()
    assert created["addresses"] == [address]
    entry = gw.entry(f"uid=addr,{gw.people}", "street", "l", "st", "postalCode")
    assert entry == {
        "street": ["1 Main St"],
        "l": ["Springfield"],
        "st": ["IL"],
        "postalcode": ["62701"],
    }
    assert gw.get(f"/Users/{created['id']}").get_json()["addresses"] == [address]


def test_derived_must_attributes_are_stored_but_not_shown(gw: Gateway) -> None:
    created = gw.post("/Users", {"userName": "solo"}).get_json()
    assert gw.entry(f"uid=solo,{gw.people}", "sn", "cn") == {"sn": ["solo"], "cn": ["solo"]}
    assert "name" not in created
    assert "name" not in gw.get(f"/Users/{created['id']}").get_json()


def test_a_partly_written_name_reads_back_without_its_derived_parts(gw: Gateway) -> None:
    created = gw.post("/Users", {"userName": "solo", "name": {"givenName": "Ann"}}).get_json()
    assert gw.entry(f"uid=solo,{gw.people}", "sn", "cn") == {"sn": ["solo"], "cn": ["solo"]}
    assert created["name"] == {"givenName": "Ann"}
    assert gw.get(f"/Users/{created['id']}").get_json()["name"] == {"givenName": "Ann"}


def test_removing_name_hides_what_is_derived_again_and_rewriting_it_shows_it(gw: Gateway) -> None:
    name = {"givenName": "Ann", "familyName": "lee", "formatted": "Ann lee"}
    created = gw.post("/Users", {"userName": "lee", "name": name}).get_json()
    assert created["name"] == name
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}
    removed = gw.patch(
        f"/Users/{created['id']}", {**patch, "Operations": [{"op": "remove", "path": "name"}]}
    )
    assert removed.status_code == 200, removed.get_json()
    assert "name" not in removed.get_json()
    assert gw.entry(f"uid=lee,{gw.people}", "sn", "cn", "givenName") == {
        "sn": ["lee"],
        "cn": ["lee"],
    }
    assert "name" not in gw.get(f"/Users/{created['id']}").get_json()
    put_back = gw.patch(
        f"/Users/{created['id']}",
        {**patch, "Operations": [{"op": "add", "path": "name", "value": name}]},
    )
    assert put_back.get_json()["name"] == name
    assert gw.get(f"/Users/{created['id']}").get_json()["name"] == name
