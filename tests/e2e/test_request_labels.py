"""The resource type label of a request (access line, metrics) answers as ``type_at`` does,
the names it remembers dropped with the catalog a mapping reload replaces."""

from __future__ import annotations

from support.gateway import Gateway

from gateway.web import requestlog
from gateway.web.resources import type_at

ENDPOINTS = ["Users", "Groups", "users", "User", "Nope", "", "Schemas", "Users/x", "Users\n"]


def test_the_label_of_each_endpoint_is_type_at_s_answer_across_a_reload(gw: Gateway) -> None:
    app = gw.client.application
    runtime = app.extensions["scim"]
    served = runtime.services
    with app.test_request_context("/scim/v2/Users"):
        for _ in range(2):  # found, then remembered
            for endpoint in ENDPOINTS:
                assert requestlog._type_label(endpoint) == (type_at(endpoint) or "unknown")
        assert requestlog._type_label("Users") == "User"
        assert requestlog._type_label("Groups") == "Group"
        assert set(requestlog._labels[1]) == {"Users", "Groups"}  # unknown names not kept
        try:
            runtime.services = {k: v for k, v in served.items() if k != "Group"}  # a reload
            for endpoint in ENDPOINTS:
                assert requestlog._type_label(endpoint) == (type_at(endpoint) or "unknown")
            assert requestlog._type_label("Groups") == "unknown"
        finally:
            runtime.services = served
        assert requestlog._type_label("Groups") == "Group"


def test_requests_are_counted_under_their_type(gw: Gateway) -> None:
    assert gw.get("/Groups/00000000-0000-0000-0000-000000000000").status_code == 404
    assert gw.get("/Nope/1").status_code == 404
    text = gw.client.get("/metrics").get_data(as_text=True)
    assert 'method="GET",resource_type="Group",status="404"' in text
    assert 'method="GET",resource_type="unknown",status="404"' in text
