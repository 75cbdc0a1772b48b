"""The core of the e2e suite again, with the gateway bound as the shipped least-privilege
service account (docker/slapd: ``cn=scim-gateway,ou=Services``) instead of the rootdn.

The test functions are imported from their modules, so pytest collects them here a second time
with this module's ``gw`` fixture: the same requests and checks, under the account's ACLs and
limits. What the rootdn may and the account may not (writing outside ou=People/ou=Groups,
reading passwords, a plain search past 500 entries) is tested at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3 import Connection
from support.gateway import Gateway
from support.service_account import SERVICE_PASSWORD, enable_service_account, service_gateway
from support.slapd import Slapd

# Collected here with the service account's gw (see the module docstring).
from e2e.test_disable_stays import (  # noqa: F401
    test_a_password_reset_by_the_help_desk_does_not_re_enable_a_disabled_account,
)
from e2e.test_entra_users import (  # noqa: F401
    test_disabled_user_cannot_bind_and_enabled_user_can,
    test_entra_user_lifecycle,
    test_flag_style_patch_without_path_and_dotted_keys,
    test_manager_is_set_by_bare_id_and_returned_as_object,
    test_patch_that_changes_nothing_writes_nothing,
    test_test_connection_query_answers_an_empty_list,
    test_user_with_only_username_gets_derived_must_attributes,
)
from e2e.test_filters import (  # noqa: F401
    people,
    test_filter_matches_exactly,
    test_id_and_reference_filters,
)
from e2e.test_groups import (  # noqa: F401
    test_deleting_a_groups_last_member_leaves_a_valid_group_with_the_placeholder,
    test_deleting_a_user_removes_it_from_every_group,
    test_entra_group_lifecycle,
    test_group_filters_by_membership_id_and_external_id,
    test_one_patch_with_several_operations_and_thirty_members,
    test_removing_the_last_member_leaves_the_placeholder_and_reads_back_empty,
    test_renaming_a_user_keeps_memberships_pointing_at_the_new_dn,
    test_users_groups_attribute_lists_the_groups,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "mappings" / "openldap.yaml"
MANY = 520  # more than slapd's default size limit (500) for a non-root bind DN


@pytest.fixture
def gw(slapd: Slapd, ldap_admin: Connection, tmp_path: Path) -> Iterator[Gateway]:
    with service_gateway(slapd, ldap_admin, tmp_path, SHIPPED) as gateway:
        yield gateway


def _fill(gw: Gateway, count: int) -> list[str]:
    """``count`` users added straight to LDAP by the rootdn (fast); their ids."""
    for i in range(count):
        dn = f"uid=many{i},{gw.people}"
        assert gw.ldap.add(dn, ["inetOrgPerson"], {"sn": "m", "cn": "m"}), gw.ldap.result
    gw.ldap.search(gw.people, "(uid=many*)", "LEVEL", attributes=["entryUUID"], paged_size=1000)
    return [str(e["attributes"]["entryUUID"][0]) for e in gw.ldap.response]


def test_listing_pages_past_the_stock_size_limit(gw: Gateway) -> None:
    ids = _fill(gw, MANY)
    seen: list[str] = []
    for start in range(1, MANY + 1, 200):
        resp = gw.get("/Users", query_string={"startIndex": start, "count": 200})
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert body["totalResults"] == MANY
        seen += [r["id"] for r in body["Resources"]]
    assert sorted(seen) == sorted(ids)

    group = gw.post("/Groups", {"displayName": "crowd", "members": [{"value": i} for i in ids]})
    assert group.status_code == 201, group.get_json()
    shown = gw.get(f"/Groups/{group.get_json()['id']}").get_json()
    assert len(shown["members"]) == MANY


def test_the_account_cannot_write_outside_people_and_groups(
    slapd: Slapd, ldap_admin: Connection
) -> None:
    from ldap3 import NONE, Server

    dn = enable_service_account(ldap_admin, slapd)
    conn = Connection(
        Server(slapd.url, get_info=NONE), user=dn, password=SERVICE_PASSWORD, auto_bind=True
    )
    try:
        outside = f"ou=not-allowed,{slapd.suffix}"
        assert not conn.add(outside, ["organizationalUnit"])
        assert conn.result["result"] == 50  # insufficientAccessRights
        policy = f"cn=default,ou=Policies,{slapd.suffix}"
        assert not conn.modify(policy, {"pwdMinLength": [("MODIFY_REPLACE", ["1"])]})
        assert conn.result["result"] == 50
        # passwords: it may set them (write) but never read them
        conn.search(slapd.people_dn, "(userPassword=*)", "SUBTREE", attributes=["userPassword"])
        assert all("userPassword" not in (e.get("attributes") or {}) for e in conn.response)
    finally:
        conn.unbind()
