"""`scim-gateway mapping check` and `serve`'s refusal to start on bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_mapping_check_accepts_the_shipped_mapping(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mapping", "check", str(ROOT / "mappings" / "openldap.yaml")]) == 0
    assert "OK (User, Group)" in capsys.readouterr().out


def test_mapping_check_reports_errors_with_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nUser:\n  base_dn: ou=x\n  rdn_attribute: uid\n"
        "  attributes: []\n  colour: red\n"
    )
    assert main(["mapping", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:6: User.colour: Unknown field." in err
    assert "User.object_classes: Missing data" in err


def test_serve_refuses_to_start_with_bad_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("SCIM_GATEWAY_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SCIM_GATEWAY_TOKEN", "s3cr3t-token-value-xyz")
    assert main(["serve", "--bind", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert "SCIM_GATEWAY_LDAP_URL is required" in err
    assert "s3cr3t-token-value-xyz" not in err


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["mapping"], ["mapping", "check"], ["mapping", "explain"]]
)
def test_help_texts_are_plain_text_without_markup(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: scim-gateway")
    for markup in ("``", ":class:", ":func:", ":meth:", ".. "):
        assert markup not in out, (markup, out)
