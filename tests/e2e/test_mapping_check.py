"""`scim-gateway mapping check` against the session slapd (the dev directory's schema and seed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ldap3 import Connection
from support.slapd import Slapd

from e2e.conftest import ROOT, make_subtree
from gateway.cli import main

SHIPPED = ROOT / "mappings" / "openldap.yaml"


@pytest.fixture
def ldap_args(slapd: Slapd, tmp_path: Path) -> list[str]:
    password = tmp_path / "pw"
    password.write_text(slapd.admin_password, encoding="utf-8")
    return [
        "--ldap-url",
        slapd.url,
        "--bind-dn",
        slapd.admin_dn,
        "--bind-password-file",
        str(password),
    ]


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["mapping", "check", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "name", ["openldap.yaml", "openldap-posix.yaml", "openldap-uniquemember.yaml"]
)
def test_shipped_mappings_pass_against_the_dev_directory(
    name: str, ldap_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(capsys, str(ROOT / "mappings" / name), *ldap_args)
    assert code == 0, out + err
    assert "OK (User, Group) against ldap://" in out
    assert "warning" not in out


def test_the_389ds_mapping_does_not_fit_openldap(
    ldap_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = check(capsys, str(ROOT / "mappings" / "389ds.yaml"), *ldap_args)
    assert code == 1
    assert "attribute 'nsAccountLock' is not defined by the directory's schema" in err


def mutated(tmp_path: Path, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "mapping.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if needle in ln)


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        (
            "      ldap: mail\n",
            "      ldap: emial\n",
            "ldap: emial",
            "User.attributes.8.ldap: attribute 'emial' is not defined by the directory's "
            "schema — did you mean 'mail'?",
        ),
        (
            '    - scim: name.familyName\n      ldap: sn\n      default: ["{userName}"]'
            "       # sn is a MUST of person: derived when absent\n",
            "",
            "- scim: userName",
            "User.attributes: sn is required by person (MUST) but no rule produces it: map a "
            "SCIM attribute to it with a default, or add '- ldap: sn' with a constant or template",
        ),
        (
            "object_classes: [top, person, organizationalPerson, inetOrgPerson]",
            "object_classes: [top, person, organizationalPerson, inetOrgPersn]",
            "inetOrgPersn",
            "User.object_classes.3: object class 'inetOrgPersn' is not defined by the "
            "directory's schema — did you mean 'inetOrgPerson'?",
        ),
        (
            "  rdn_attribute: uid ",
            "  colour: red\n  rdn_attribute: uid ",
            "colour: red",
            "User.colour: Unknown field.",
        ),
    ],
    ids=["typo-attribute", "missing-must", "unknown-object-class", "unknown-key"],
)
def test_mistakes_are_reported_with_their_line_and_the_fix(
    tmp_path: Path,
    ldap_args: list[str],
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    needle: str,
    expected: str,
) -> None:
    path = mutated(tmp_path, old, new)
    code, _out, err = check(capsys, str(path), *ldap_args)
    assert code == 1
    assert f"{path}:{line_of(path, needle)}: " in err
    assert expected in err


def test_a_refused_bind_is_reported(
    slapd: Slapd, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    password = tmp_path / "pw"
    password.write_text("not-the-password", encoding="utf-8")
    args = [
        "--ldap-url",
        slapd.url,
        "--bind-dn",
        slapd.admin_dn,
        "--bind-password-file",
        str(password),
    ]
    code, _out, err = check(capsys, str(SHIPPED), *args)
    assert code == 1
    assert "cannot check against the directory" in err and "bind" in err
    assert "not-the-password" not in err


def test_directory_settings_come_from_the_gateways_environment(
    slapd: Slapd, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCIM_GATEWAY_LDAP_URL", slapd.url)
    monkeypatch.setenv("SCIM_GATEWAY_LDAP_BIND_DN", slapd.admin_dn)
    monkeypatch.setenv("SCIM_GATEWAY_LDAP_BIND_PASSWORD", slapd.admin_password)
    monkeypatch.delenv("SCIM_GATEWAY_LDAP_BIND_PASSWORD_FILE", raising=False)
    code, out, _err = check(capsys, str(SHIPPED))
    assert code == 0 and f"against {slapd.url}" in out
    code, out, _err = check(capsys, str(SHIPPED), "--offline")
    assert code == 0 and "YAML only" in out


def test_counter_problems_are_reported(
    slapd: Slapd,
    ldap_admin: Connection,
    tmp_path: Path,
    ldap_args: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    top = people.split(",", 1)[1]
    text = (ROOT / "mappings" / "openldap-posix.yaml").read_text(encoding="utf-8")
    text = text.replace("ou=People,dc=example,dc=org", people)
    text = text.replace("ou=Groups,dc=example,dc=org", groups)
    text = text.replace("cn=uidNumber-counter,dc=example,dc=org", f"cn=uidNumber-counter,{top}")
    path = tmp_path / "posix.yaml"
    path.write_text(text, encoding="utf-8")
    counter = f"cn=uidNumber-counter,{top}"
    assert ldap_admin.add(
        counter, ["device", "extensibleObject"], {"cn": "uidNumber-counter", "uidNumber": "10005"}
    ), ldap_admin.result
    taken = {"uid": "old", "sn": "o", "cn": "o", "uidNumber": "10007", "gidNumber": "100"}
    taken["homeDirectory"] = "/home/old"
    assert ldap_admin.add(f"uid=old,{people}", ["inetOrgPerson", "posixAccount"], taken), (
        ldap_admin.result
    )
    code, out, err = check(capsys, str(path), *ldap_args)
    assert code == 0, err
    assert "already has uidNumber 10007, at or above the next number the counter hands out" in out
    assert ldap_admin.modify(counter, {"uidNumber": [("MODIFY_REPLACE", ["60000"])]})
    code, _out, err = check(capsys, str(path), *ldap_args)
    assert code == 1 and "the range is exhausted: the counter is at 60000" in err


def test_the_documented_example_passes_against_the_dev_directory(
    tmp_path: Path, ldap_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    doc = (ROOT / "docs" / "mapping.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    code, out, err = check(capsys, str(path), *ldap_args)
    assert code == 0, out + err
    assert "warning" not in out
