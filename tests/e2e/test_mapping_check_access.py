"""`mapping check` tells whether the bind DN can do the gateway's work: write access, a size
limit that breaks listing, missing indexes; probed without changing anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from ldap3 import Connection
from support.service_account import SERVICE_PASSWORD, enable_service_account, service_subtree
from support.slapd import Slapd

from e2e.conftest import ROOT, isolated_mapping
from gateway.cli import main

SHIPPED = ROOT / "mappings" / "openldap.yaml"
READER_PASSWORD = "Reader-pw-123"
MANY = 510  # past slapd's default size limit of 500


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["mapping", "check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def bind_args(slapd: Slapd, tmp_path: Path, dn: str, password: str) -> list[str]:
    secret = tmp_path / "bind-password"
    secret.write_text(password, encoding="utf-8")
    return ["--ldap-url", slapd.url, "--bind-dn", dn, "--bind-password-file", str(secret)]


def versions(ldap: Connection, base: str) -> dict[str, str]:
    """entryCSN of every entry below ``base``: any write changes one."""
    ldap.search(base, "(objectClass=*)", "LEVEL", attributes=["entryCSN"], paged_size=1000)
    return {e["dn"]: str(e["attributes"]["entryCSN"]) for e in ldap.response}


@pytest.fixture
def crowded(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> tuple[Path, str]:
    """A mapping over a fresh subtree holding MANY users, and a reader account in it (a plain
    user: reads what bound users read, writes nothing, stock size limits)."""
    people, groups = service_subtree(ldap_admin, slapd)
    for i in range(MANY):
        dn = f"uid=crowd{i},{people}"
        assert ldap_admin.add(dn, ["inetOrgPerson"], {"sn": "c", "cn": "c"}), ldap_admin.result
    reader = f"uid=reader,{people}"
    attrs = {"sn": "r", "cn": "r", "userPassword": READER_PASSWORD}
    assert ldap_admin.add(reader, ["inetOrgPerson"], attrs), ldap_admin.result
    assert ldap_admin.add(f"cn=g,{groups}", ["groupOfNames"], {"member": [reader]})
    return isolated_mapping(tmp_path, people, groups), reader


def test_a_reader_account_is_told_it_cannot_write_nor_list_everything(
    slapd: Slapd, tmp_path: Path, crowded: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    mapping, reader = crowded
    code, out, err = check(
        capsys, str(mapping), *bind_args(slapd, tmp_path, reader, READER_PASSWORD)
    )
    assert code == 1
    assert err.count("the bind DN may not modify entries below") == 2  # User and Group
    assert "stops this bind DN's paged searches after 500 entries" in err
    assert "size.pr=unlimited" in err
    assert "indexes not checked" in out  # a plain user cannot read cn=config


def test_the_service_account_passes_and_nothing_was_written(
    slapd: Slapd,
    ldap_admin: Connection,
    tmp_path: Path,
    crowded: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    mapping, _ = crowded
    people = mapping.read_text().split("base_dn: ", 2)[1].splitlines()[0]
    before = versions(ldap_admin, people)
    account = enable_service_account(ldap_admin, slapd)
    code, out, err = check(
        capsys, str(mapping), *bind_args(slapd, tmp_path, account, SERVICE_PASSWORD)
    )
    assert code == 0, err
    assert "warning" not in out and "indexes not checked" not in out
    assert versions(ldap_admin, people) == before  # the write probe changed nothing


def test_a_missing_index_is_reported(
    slapd: Slapd,
    ldap_admin: Connection,
    tmp_path: Path,
    crowded: tuple[Path, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    mapping, _ = crowded
    text = mapping.read_text().replace(
        "- scim: externalId\n      ldap: businessCategory",
        "- scim: externalId\n      ldap: employeeType",
        1,
    )
    mapping.write_text(text)
    account = enable_service_account(ldap_admin, slapd)
    code, out, err = check(
        capsys, str(mapping), *bind_args(slapd, tmp_path, account, SERVICE_PASSWORD)
    )
    assert code == 0, err  # a warning: it works, slowly
    assert "employeetype has no equality index: filters on externalId" in out
    assert "olcDbIndex: employeetype eq" in out
