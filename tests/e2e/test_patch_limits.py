"""Large PATCH bodies over HTTP and the real slapd: linear work, caps, deadline (issue 12, item 4).

Before the fix 1,000 ``add emails`` operations took 1.4-4.8 s, 4,000 took 20-52 s and a
legal 12,000-operation body ran for minutes. Each refusal here is checked to leave the
entry exactly as it was (same entryCSN: nothing was written).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ldap3 import Connection
from support.gateway import Gateway
from support.slapd import Slapd

from e2e.conftest import TOKEN, isolated_mapping, make_subtree, settings_for
from e2e.test_errors import assert_scim_error
from gateway.app import MAX_BODY_BYTES, create_app
from gateway.provisioning.writes import Writer
from gateway.scim.messages import PATCH_OP, USER_SCHEMA

GatewayFactory = Callable[..., Gateway]


@pytest.fixture
def gateway_with(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[GatewayFactory]:
    """Build a gateway with settings overridden (caps, deadline) over its own subtree."""
    apps = []

    def build(**overrides: Any) -> Gateway:
        people, groups = make_subtree(ldap_admin, slapd.suffix)
        folder = tmp_path / f"m{len(apps)}"
        folder.mkdir()
        mapping = isolated_mapping(folder, people, groups)
        app = create_app(settings_for(slapd, mapping, **overrides))
        app.testing = True
        apps.append(app)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        return Gateway(app.test_client(), ldap_admin, people, groups, headers)

    yield build
    for app in apps:
        app.extensions["scim"].pool.close_all()


def add_email_ops(count: int) -> dict[str, Any]:
    ops = [
        {"op": "add", "path": "emails", "value": [{"value": f"{i}@x.io", "type": "work"}]}
        for i in range(count)
    ]
    return {"schemas": [PATCH_OP], "Operations": ops}


def new_user(gw: Gateway, name: str) -> tuple[str, str]:
    resp = gw.post("/Users", {"schemas": [USER_SCHEMA], "userName": name})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"], f"uid={name},{gw.people}"


def csn(gw: Gateway, dn: str) -> list[str]:
    entry = gw.entry(dn, "entryCSN", "mail")
    assert entry is not None
    return [*entry["entrycsn"], *entry.get("mail", [])]


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """The call's result and the CPU seconds this process spent on it (the Flask test client
    runs the gateway in-process): unlike wall time, not inflated by a busy machine."""
    started = time.process_time()
    result = call()
    return result, time.process_time() - started


# ------------------------------------------------------------------------ linear work


def test_patches_of_1000_4000_and_12000_operations_are_answered_in_linear_time(
    gateway_with: GatewayFactory,
) -> None:
    gw = gateway_with(max_patch_operations=20_000, max_values=20_000)
    uid, _ = new_user(gw, "many")
    times = {}
    for count in (1000, 4000, 12_000):
        body = add_email_ops(count)
        resp, times[count] = timed(lambda b=body: gw.patch(f"/Users/{uid}", b))
        assert resp.status_code == 200, resp.get_json()
    assert len(str(add_email_ops(12_000))) < MAX_BODY_BYTES  # a legal body
    print("PATCH CPU seconds by operations:", {k: round(v, 3) for k, v in times.items()})
    assert times[4000] < 1.0, times  # ~0.25 s here; 20-52 s before
    assert times[12_000] < 3.0, times  # ~0.7 s here; 392 s before
    assert times[12_000] < 6 * times[4000] + 0.5, times  # linear: ~3x (n² would be 9x)


# ------------------------------------------------------------------------ caps


def test_a_4000_operation_patch_is_refused_at_once_by_the_default_cap(gw: Gateway) -> None:
    uid, dn = new_user(gw, "capped")
    before = csn(gw, dn)
    resp, seconds = timed(lambda: gw.patch(f"/Users/{uid}", add_email_ops(4000)))
    body = assert_scim_error(resp, 400, "tooMany")
    assert "4000 operations" in body["detail"] and "at most 1000" in body["detail"]
    assert seconds < 1.0
    assert csn(gw, dn) == before


def test_values_past_the_cap_in_a_post_are_refused_and_nothing_is_created(
    gateway_with: GatewayFactory,
) -> None:
    gw = gateway_with(max_values=5)
    emails = [{"value": f"{i}@x.io", "type": "work"} for i in range(6)]
    resp = gw.post("/Users", {"schemas": [USER_SCHEMA], "userName": "six", "emails": emails})
    body = assert_scim_error(resp, 400, "tooMany")
    assert "/emails holds 6 values" in body["detail"]
    assert gw.children(gw.people) == []


def test_values_added_past_the_cap_by_many_operations_change_nothing(
    gateway_with: GatewayFactory,
) -> None:
    gw = gateway_with(max_values=5)
    uid, dn = new_user(gw, "grow")
    before = csn(gw, dn)
    body = assert_scim_error(gw.patch(f"/Users/{uid}", add_email_ops(6)), 400, "tooMany")
    assert "'emails' would hold 6 values" in body["detail"]
    assert csn(gw, dn) == before
    assert gw.patch(f"/Users/{uid}", add_email_ops(5)).status_code == 200


def test_group_members_named_past_the_cap_change_nothing(gateway_with: GatewayFactory) -> None:
    gw = gateway_with(max_values=3)
    users = [new_user(gw, f"m{i}")[0] for i in range(4)]
    resp = gw.post("/Groups", {"displayName": "capped"})
    assert resp.status_code == 201, resp.get_json()
    gid = resp.get_json()["id"]
    group_dn = f"cn=capped,{gw.groups}"
    before = gw.entry(group_dn, "member", "entryCSN")
    ops = [{"op": "add", "path": "members", "value": [{"value": u}]} for u in users]
    body = {"schemas": [PATCH_OP], "Operations": ops}
    detail = assert_scim_error(gw.patch(f"/Groups/{gid}", body), 400, "tooMany")["detail"]
    assert "names 4 values of 'members'" in detail
    assert gw.entry(group_dn, "member", "entryCSN") == before


# ------------------------------------------------------------------------ deadline


def test_an_expired_deadline_is_503_and_writes_nothing(gateway_with: GatewayFactory) -> None:
    gw = gateway_with(patch_deadline=1e-6)
    uid, dn = new_user(gw, "late")
    before = csn(gw, dn)
    resp = gw.patch(f"/Users/{uid}", add_email_ops(3))
    body = assert_scim_error(resp, 503)
    assert "deadline" in body["detail"] and "nothing was changed" in body["detail"]
    assert resp.headers["Retry-After"].isdigit()
    assert csn(gw, dn) == before


def test_a_deadline_passed_after_the_operations_stops_before_the_write(
    gateway_with: GatewayFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operations finish in time; the id lookups before the write are slow (0.6 s
    against a 0.4 s deadline): the deadline is checked once more, and nothing is written."""
    gw = gateway_with(patch_deadline=0.4)
    uid, dn = new_user(gw, "slow")
    before = csn(gw, dn)
    real = Writer._refs_for

    def slow_refs(self: Writer, *args: Any) -> Any:
        time.sleep(0.6)
        return real(self, *args)

    monkeypatch.setattr(Writer, "_refs_for", slow_refs)
    body = assert_scim_error(gw.patch(f"/Users/{uid}", add_email_ops(2)), 503)
    assert "before writing to the directory" in body["detail"]
    assert csn(gw, dn) == before
