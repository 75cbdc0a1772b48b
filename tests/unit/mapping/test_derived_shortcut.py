"""hide_unwritten settles "no part is derived" without its walk when no template other than
the attribute's own can render a part's value; with and without that short cut, every read
must come out the same."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pytest

from gateway.mapping import derived
from gateway.mapping.loader import load_mapping

ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = {p.name: load_mapping(p) for p in sorted((ROOT / "mappings").glob("*.yaml"))}
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"

# Values chosen to equal what the openldap mapping's defaults derive, or almost:
# sn <- {userName}; cn <- "{name.givenName} {name.familyName}", {displayName}, {userName}
USER_NAMES = ["lee", "Ann"]
GIVEN = [None, "Ann", "lee"]
FAMILY = [None, "lee", "Lee", "Ann"]
FORMATTED = [None, "Ann lee", "Ann Lee", "lee", "User", "Ann", " lee "]
DISPLAY = [None, "User", "lee", "Ann lee"]


def _users() -> list[dict[str, Any]]:
    out = []
    for user, given, family, formatted, display in itertools.product(
        USER_NAMES, GIVEN, FAMILY, FORMATTED, DISPLAY
    ):
        resource: dict[str, Any] = {"schemas": [CORE], "id": "1", "userName": user}
        if display is not None:
            resource["displayName"] = display
        name = {
            k: v
            for k, v in (("givenName", given), ("familyName", family), ("formatted", formatted))
            if v is not None
        }
        if name:
            resource["name"] = name
        out.append(resource)
    return out


def _walked(rm: Any, resource: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict:
    with monkeypatch.context() as patched:
        patched.setattr(derived, "_none_taken", lambda *a: False)
        derived.hide_unwritten(rm, resource)
    return resource


@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_short_cut_reads_every_user_as_the_walk_does(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rm = MAPPINGS[name]["User"]
    users = _users()
    shortcuts = 0
    for resource in users:
        fast = copy.deepcopy(resource)
        derived.hide_unwritten(rm, fast)
        assert fast == _walked(rm, copy.deepcopy(resource), monkeypatch), resource
        box = resource.get("name")
        if isinstance(box, dict):
            for (container, attr), rules, defaulted in derived._groups(rm):
                if container is None and attr == "name" and defaulted:
                    flat = derived.template_values(resource)
                    shortcuts += derived._none_taken(flat, box, rules, "name.")
    assert shortcuts > len(users) // 4  # the short cut is taken often, and not always


def test_a_name_derived_from_the_user_name_is_still_hidden() -> None:
    rm = MAPPINGS["openldap.yaml"]["User"]
    resource = {"schemas": [CORE], "userName": "solo", "name": {"familyName": "solo"}}
    derived.hide_unwritten(rm, resource)
    assert "name" not in resource


def test_a_written_name_is_shown_without_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    rm = MAPPINGS["openldap.yaml"]["User"]
    resource = {
        "schemas": [CORE],
        "userName": "u1",
        "name": {"givenName": "Ann", "familyName": "Lee", "formatted": "Ann Lee"},
    }

    def no_walk(*args: Any) -> set:
        raise AssertionError("walked")

    monkeypatch.setattr(derived, "_parts_walked", no_walk)
    derived.hide_unwritten(rm, resource)
    assert resource["name"] == {"givenName": "Ann", "familyName": "Lee", "formatted": "Ann Lee"}


def _odd_users() -> list[dict[str, Any]]:
    """The users above, then with template fields that are no strings, empty or dotted keys."""
    out = _users()
    base = {"schemas": [CORE], "id": "1", "name": {"familyName": "lee", "formatted": "lee"}}
    for user in (None, "", 7, True, ["lee"], {"value": "lee"}, "lee", " lee "):
        for display in (None, "", "lee", 3, {"x": "lee"}):
            resource = dict(copy.deepcopy(base))
            if user is not None:
                resource["userName"] = user
            if display is not None:
                resource["displayName"] = display
            out.append(resource)
            out.append({**copy.deepcopy(resource), "name.familyName": "lee", "userName.x": "lee"})
    return out


@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_reads_from_the_few_fields_equal_reads_from_the_whole_flat(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``_check_fields`` lets the short cut read a few top-level values instead of the whole
    flattened resource: every read must come out as with the whole flat."""
    for rm in MAPPINGS[name].resources.values():
        fields = derived._check_fields(rm)
        assert len(fields) == len(derived._groups(rm))
        for resource in _odd_users() if rm.name == "User" else _users():
            fast = copy.deepcopy(resource)
            derived.hide_unwritten(rm, fast)
            with monkeypatch.context() as patched:
                none = (None,) * len(fields)
                patched.setattr(derived, "_check_fields", lambda rm, none=none: none)
                whole = copy.deepcopy(resource)
                derived.hide_unwritten(rm, whole)
            assert fast == whole, resource
    user_fields = derived._check_fields(MAPPINGS["openldap.yaml"]["User"])
    assert ("userName", "displayName") in user_fields  # the name's placeholders: taken
