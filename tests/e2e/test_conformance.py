"""The public conformance suite scim2-tester, run in-process against the app over the real slapd.

Zero failures is the bar; the counts are printed in the test output every run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from ldap3 import Connection
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status
from support.slapd import Slapd

from e2e.conftest import SHIPPED, TOKEN, isolated_mapping, make_subtree, settings_for
from gateway.app import create_app


@pytest.fixture
def generic(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Flask]:
    """The shipped mapping without ``primary: true`` on the work e-mail.

    The shipped rule answers every work e-mail as primary, as Entra sends it; the flag is not
    stored (LDAP has no place for it). scim2-tester writes ``primary: false`` and expects to
    read it back, which no stateless mapping of the stock schema can do, so it runs against
    the same mapping without the flag (docs/mapping.md, "primary").
    """
    text = SHIPPED.read_text(encoding="utf-8")
    assert text.count("      primary: true\n") == 1
    source = tmp_path / "generic" / SHIPPED.name
    source.parent.mkdir()
    source.write_text(text.replace("      primary: true\n", ""), encoding="utf-8")
    people, groups = make_subtree(ldap_admin, slapd.suffix)
    app = create_app(settings_for(slapd, isolated_mapping(tmp_path, people, groups, source)))
    try:
        yield app
    finally:
        app.extensions["scim"].pool.close_all()


def test_scim2_tester_passes_with_zero_failures(
    generic: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    client = WSGISCIMClient(
        generic,
        base_url="http://localhost/scim/v2",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    results = check_server(client)
    counts = Counter(r.status.name for r in results)
    failures = [
        f"{r.status.name} {r.title}: {r.reason}"
        for r in results
        if r.status not in (Status.SUCCESS, Status.SKIPPED)
    ]
    with capsys.disabled():
        print(
            f"\nscim2-tester: {len(results)} checks, "
            + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        )
    assert counts["SUCCESS"] > 50
    assert not failures, "\n".join(failures)
