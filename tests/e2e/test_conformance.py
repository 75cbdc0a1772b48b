"""The public conformance suite scim2-tester, run in-process against the app over the real slapd.

Zero failures is the bar; the counts are printed in the test output every run.
"""

from __future__ import annotations

from collections import Counter

import pytest
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status
from support.gateway import Gateway

from e2e.conftest import TOKEN


def test_scim2_tester_passes_with_zero_failures(
    gw: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    client = WSGISCIMClient(
        gw.client.application,
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
