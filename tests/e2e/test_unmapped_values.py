"""Mapping strictness (issue 13, item 4): nothing a client sends is dropped without a word.

A rule naming a sub-attribute that does not exist (``.valu``, ``addresses[...].state``) or that
no client writes (``.display``) is a ``mapping check`` error with its line; ``unmapped: reject``
refuses a value of a type no rule maps (a fax number when only work and mobile are), changing
nothing; ``unmapped: ignore`` stores the rest and lists what it dropped at DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import Connection
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import TOKEN, make_subtree, settings_for
from gateway.app import create_app
from gateway.cli import main
from gateway.mapping import translate

MAPPING = """\
version: 1
User:
  base_dn: {people}
  object_classes: [top, person, organizationalPerson, inetOrgPerson]
  rdn_attribute: uid
  unmapped: {policy}
  attributes:
    - scim: userName
      ldap: uid
    - scim: name.familyName
      ldap: sn
      default: ["{{userName}}"]
    - scim: name.formatted
      ldap: cn
      default: ["{{userName}}"]
    - scim: phoneNumbers[type eq "work"].value
      ldap: telephoneNumber
    - scim: phoneNumbers[type eq "mobile"].value
      ldap: mobile
    - scim: addresses[type eq "work"].locality
      ldap: l
"""
FAX = {"type": "fax", "value": "+1 555 0199"}
WORK = {"type": "work", "value": "+1 555 0100"}


def gateway_with(policy: str, slapd: Slapd, ldap: Connection, tmp_path: Path) -> Iterator[Gateway]:
    people, groups = make_subtree(ldap, slapd.suffix)
    path = tmp_path / "mapping.yaml"
    path.write_text(MAPPING.format(people=people, policy=policy), encoding="utf-8")
    app = create_app(settings_for(slapd, path))
    app.testing = True
    try:
        yield Gateway(app.test_client(), ldap, people, groups, {"Authorization": f"Bearer {TOKEN}"})
    finally:
        app.extensions["scim"].pool.close_all()


@pytest.fixture
def strict(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    yield from gateway_with("reject", slapd, ldap_admin, tmp_path)


@pytest.fixture
def lenient(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    yield from gateway_with("ignore", slapd, ldap_admin, tmp_path)


def test_reject_refuses_a_value_of_an_unmapped_type_and_writes_nothing(strict: Gateway) -> None:
    resp = strict.post("/Users", {"userName": "fax", "phoneNumbers": [WORK, FAX]})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["scimType"] == "invalidValue"
    assert 'phoneNumbers[type eq "fax"]' in body["detail"]
    assert strict.children(strict.people) == []


def test_reject_refuses_an_unmapped_part_of_a_mapped_type(strict: Gateway) -> None:
    address = {"type": "work", "locality": "Paris", "country": "FR"}
    resp = strict.post("/Users", {"userName": "paris", "addresses": [address]})
    assert resp.status_code == 400
    assert 'addresses[type eq "work"].country' in resp.get_json()["detail"]


def test_reject_refuses_a_patch_adding_an_unmapped_type_and_changes_nothing(
    strict: Gateway,
) -> None:
    created = strict.post("/Users", {"userName": "pat", "phoneNumbers": [WORK]})
    assert created.status_code == 201, created.get_json()
    dn = f"uid=pat,{strict.people}"
    before = strict.entry(dn, "*", "entryCSN")
    resp = strict.patch(
        f"/Users/{created.get_json()['id']}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "phoneNumbers", "value": [FAX]}],
        },
    )
    assert resp.status_code == 400
    assert 'phoneNumbers[type eq "fax"]' in resp.get_json()["detail"]
    assert strict.entry(dn, "*", "entryCSN") == before


def test_reject_accepts_what_every_rule_stores(strict: Gateway) -> None:
    body = {"userName": "ok", "phoneNumbers": [WORK, {"type": "mobile", "value": "+1 2"}]}
    resp = strict.post("/Users", body)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["phoneNumbers"] == body["phoneNumbers"]


def test_ignore_stores_the_rest_and_lists_what_it_dropped_at_debug(
    lenient: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="gateway.provisioning.service"):
        resp = lenient.post("/Users", {"userName": "lax", "phoneNumbers": [WORK, FAX]})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["phoneNumbers"] == [WORK]
    assert lenient.entry(f"uid=lax,{lenient.people}", "telephoneNumber", "mobile") == {
        "telephonenumber": ["+1 555 0100"]
    }
    dropped = [r.getMessage() for r in caplog.records if "ignoring unmapped" in r.getMessage()]
    assert dropped and 'phoneNumbers[type eq "fax"]' in dropped[0], dropped


def test_ignore_without_debug_works_nothing_out_and_writes_the_same(
    lenient: Gateway, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``ignore`` and DEBUG off the unmapped names would go nowhere: they are not
    worked out (writes.Writer._check_unmapped), and the writes are those of DEBUG on."""
    calls: list[object] = []
    real = translate.unmapped_attributes
    monkeypatch.setattr(translate, "unmapped_attributes", lambda *a: calls.append(a) or real(*a))
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "phoneNumbers", "value": [FAX]}],
    }
    seen = {}
    for level, name in ((logging.INFO, "quiet"), (logging.DEBUG, "loud")):
        calls.clear()
        with caplog.at_level(level, logger="gateway.provisioning.service"):
            created = lenient.post("/Users", {"userName": name, "phoneNumbers": [WORK, FAX]})
            assert created.status_code == 201, created.get_json()
            patched = lenient.patch(f"/Users/{created.get_json()['id']}", patch)
            assert patched.status_code == 200, patched.get_json()
        seen[name] = (len(calls), patched.get_json()["phoneNumbers"])
    assert seen == {"quiet": (0, [WORK]), "loud": (3, [WORK])}
    assert lenient.entry(f"uid=quiet,{lenient.people}", "telephoneNumber", "mobile") == {
        "telephonenumber": ["+1 555 0100"]
    }


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('phoneNumbers[type eq "fax"].valu', "unknown sub-attribute 'valu' of phoneNumbers"),
        ('phoneNumbers[type eq "fax"].display', "display is read-only"),
        ('addresses[type eq "work"].state', "did you mean 'region'?"),
    ],
)
def test_mapping_check_reports_a_rule_that_would_store_nothing_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rule: str, message: str
) -> None:
    text = MAPPING.format(people="ou=People,dc=example,dc=org", policy="reject")
    path = tmp_path / "m.yaml"
    path.write_text(text + f"    - scim: '{rule}'\n      ldap: facsimileTelephoneNumber\n")
    code = main(["mapping", "check", "--offline", str(path)])
    err = capsys.readouterr().err
    assert code == 1
    line = len(text.splitlines()) + 1
    assert f"m.yaml:{line}: User.attributes.6.scim: " in err, err
    assert message in err
