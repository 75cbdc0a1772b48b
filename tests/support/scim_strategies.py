"""Hypothesis strategies for SCIM traffic: bodies, PATCH operations, filters, query strings.

Half-plausible on purpose: mostly the names and shapes a real client sends (so requests get
past the first check and reach the mapping and the directory), mixed with arbitrary JSON
and text (so every check is also hit with what nobody planned for).
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import strategies as st

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

HOSTILE_CHARS = '*()\\,+="<>;#/ \t\n'
"""What breaks DNs (RFC 4514), LDAP filters (RFC 4515) and naive quoting (NUL: see below)."""

# ----------------------------------------------------------------------------- plain JSON


def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any], odds: int = 8):
    """``usual`` about ``odds`` times as often as ``odd`` (``|`` weighs branches equally).

    Decided by coin flips that must all come up True: hypothesis leans towards False and
    small numbers, so ``usual`` is also what it shrinks towards.
    """
    flips = max(1, round(math.log2(odds + 1)))
    return st.lists(st.booleans(), min_size=flips, max_size=flips).flatmap(
        lambda coins: odd if all(coins) else usual
    )


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

hostile_text = mostly(
    st.text(
        alphabet=st.one_of(
            st.sampled_from(HOSTILE_CHARS),
            st.characters(codec="utf-8"),  # any code point but surrogates
        ),
        max_size=24,
    ),
    st.text(alphabet=st.sampled_from("a\x00"), min_size=1, max_size=3),
    odds=15,
)
"""Any Unicode text, DN/filter specials often, now and then NUL (which must be refused)."""

# ---------------------------------------------------------------------------- attribute names

USER_ATTRIBUTES = [
    "userName",
    "username",
    "USERNAME",
    "displayName",
    "name",
    "name.givenName",
    "name.familyName",
    "emails",
    "phoneNumbers",
    "active",
    "title",
    "externalId",
    "preferredLanguage",
    "groups",
    "id",
    "meta",
    "password",
    "addresses",
    "roles",
    "x509Certificates",
    f"{ENTERPRISE}:employeeNumber",
    f"{ENTERPRISE}:manager",
    f"{USER_SCHEMA}:userName",
]
GROUP_ATTRIBUTES = [
    "displayName",
    "members",
    "externalId",
    "id",
    "meta",
    f"{GROUP_SCHEMA}:displayName",
]


def _emails() -> st.SearchStrategy[Any]:
    item = st.fixed_dictionaries(
        {"value": hostile_text},
        optional={
            "type": st.sampled_from(["work", "home", "other", "WORK", ""]) | st.text(max_size=5),
            "primary": st.booleans() | st.sampled_from(["true", "False", "yes"]),
            "display": st.text(max_size=5),
        },
    )
    return st.lists(item, max_size=3) | item | hostile_text


def attribute_values(name: str, ids: list[str]) -> st.SearchStrategy[Any]:
    """Values that suit ``name`` most of the time, and anything at all some of the time."""
    plausible: dict[str, st.SearchStrategy[Any]] = {
        "emails": _emails(),
        "phoneNumbers": _emails(),
        "active": st.booleans() | st.sampled_from(["true", "False", "maybe", "", 1, 0]),
        "name": st.fixed_dictionaries(
            {},
            optional={
                "givenName": hostile_text,
                "familyName": hostile_text,
                "formatted": hostile_text,
            },
        ),
        "members": st.lists(
            st.fixed_dictionaries(
                {"value": st.sampled_from(ids) if ids else st.text(max_size=8)},
                optional={
                    "display": st.text(max_size=5),
                    "type": st.sampled_from(["User", "Group"]),
                },
            )
            | st.fixed_dictionaries({"value": st.text(max_size=40)}),
            max_size=3,
        ),
        "groups": st.lists(
            st.fixed_dictionaries({"value": st.sampled_from(ids or ["x"])}), max_size=2
        ),
        f"{ENTERPRISE}:manager": st.fixed_dictionaries(
            {"value": st.sampled_from(ids) if ids else st.text(max_size=8)}
        )
        | st.sampled_from(ids or ["x"]),
    }
    return mostly(plausible.get(name, hostile_text), json_values, odds=6)


def resource_bodies(kind: str, ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A POST/PUT body for /Users (kind "User") or /Groups: mostly plausible."""
    names = USER_ATTRIBUTES if kind == "User" else GROUP_ATTRIBUTES
    required = "userName" if kind == "User" else "displayName"
    members = mostly(
        st.sampled_from(names).flatmap(lambda n: st.tuples(st.just(n), attribute_values(n, ids))),
        st.tuples(st.text(max_size=12), json_values),
    )

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if draw(st.booleans()):
            body["schemas"] = draw(
                st.sampled_from(
                    [[USER_SCHEMA], [GROUP_SCHEMA], [USER_SCHEMA, ENTERPRISE], [], ["urn:x"]]
                )
                | json_values
            )
        if draw(st.integers(0, 9)) < 9:
            body[required] = draw(mostly(hostile_text.filter(str.strip), json_values))
        for key, value in draw(st.lists(members, max_size=5)):
            body[key] = value
        if draw(st.integers(0, 4)) == 0:
            body[ENTERPRISE] = draw(
                st.dictionaries(
                    st.sampled_from(["employeeNumber", "department", "manager", "x"]),
                    json_values,
                    max_size=3,
                )
                | json_values
            )
        return body

    return build()


# ------------------------------------------------------------------------------ PATCH bodies

USER_PATCH_PATHS = [
    "title",
    "displayName",
    "userName",
    "active",
    "name.givenName",
    "name",
    "emails",
    'emails[type eq "work"].value',
    'emails[type eq "work"]',
    "emails.value",
    'phoneNumbers[type eq "mobile"].value',
    "phoneNumbers",
    "externalId",
    "preferredLanguage",
    f"{ENTERPRISE}:employeeNumber",
    f"{ENTERPRISE}:manager",
    f"{ENTERPRISE}:department",
    "id",
    "meta.created",
    "groups",
    "nickName",
]
GROUP_PATCH_PATHS = ["displayName", "members", "externalId", "members.value", "id", "meta"]


def patch_bodies(kind: str, ids: list[str]) -> st.SearchStrategy[Any]:
    """PatchOp bodies (RFC 7644 §3.5.2) for a User or a Group: mostly well-formed."""
    if kind == "User":
        paths = st.sampled_from(USER_PATCH_PATHS)
    else:
        id_values = st.sampled_from(ids) if ids else st.text(max_size=8)
        member_filter = st.builds(lambda uid: f'members[value eq "{uid}"]', id_values)
        paths = st.sampled_from(GROUP_PATCH_PATHS) | member_filter

    @st.composite
    def operation(draw: st.DrawFn, mangled: bool) -> Any:
        if mangled and draw(st.booleans()):
            return draw(json_values)
        ops = st.sampled_from(["add", "replace", "remove", "Add", "REPLACE"])
        op: dict[str, Any] = {"op": draw(mostly(ops, st.text(max_size=6)) if mangled else ops)}
        if draw(mostly(st.just(True), st.just(False), odds=4)):
            path = draw(mostly(paths, hostile_text) if mangled else paths)
            op["path"] = path
            op["value"] = draw(attribute_values(path.split("[")[0].split(".")[0], ids))
        else:
            op["value"] = draw(resource_bodies(kind, ids))
        removing = op["op"].lower() == "remove" and "path" in op
        if (removing or mangled) and draw(st.booleans()):
            op.pop("value")
        return op

    clean = st.fixed_dictionaries(
        {
            "schemas": st.just([PATCH_OP]),
            "Operations": st.lists(operation(False), min_size=1, max_size=3),
        }
    )
    mangled = st.fixed_dictionaries(
        {
            "schemas": mostly(st.just([PATCH_OP]), json_values, odds=3),
            "Operations": mostly(st.lists(operation(True), max_size=3), json_values, odds=3),
        }
    )
    return mostly(clean, mangled | json_values, odds=4)


# ----------------------------------------------------------------------------------- filters

FILTER_ATTRIBUTES = [
    "userName",
    "displayName",
    "emails",
    "emails.value",
    "emails.type",
    "name.givenName",
    "name.familyName",
    "title",
    "externalId",
    "active",
    "id",
    "meta.created",
    "meta.lastModified",
    "members",
    "members.value",
    "groups",
    f"{ENTERPRISE}:employeeNumber",
    f"{USER_SCHEMA}:userName",
    "nickName",
]
OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]


def comp_values() -> st.SearchStrategy[str]:
    """A compValue as it appears in filter text: JSON string, number, true/false/null."""
    return st.one_of(
        hostile_text.map(json.dumps),
        hostile_text.map(lambda t: json.dumps(t, ensure_ascii=False)),
        st.sampled_from(["true", "false", "null", "0", "-1.5e3", '"2024-01-31T12:00:00Z"']),
        st.integers().map(str),
    )


def filters() -> st.SearchStrategy[str]:
    """Text following RFC 7644 §3.4.2.2's grammar, often; random text, sometimes."""
    attr = st.sampled_from(FILTER_ATTRIBUTES)
    compare = st.builds(
        lambda a, o, v: f"{a} {o} {v}", attr, st.sampled_from(OPERATORS), comp_values()
    )
    present = attr.map(lambda a: f"{a} pr")
    leaf = compare | present
    tree = st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda a, b: f"{a} and {b}", inner, inner),
            st.builds(lambda a, b: f"{a} or {b}", inner, inner),
            inner.map(lambda f: f"not ({f})"),
            inner.map(lambda f: f"({f})"),
            st.builds(
                lambda a, f: f"{a}[{f}]",
                st.sampled_from(["emails", "members", "phoneNumbers"]),
                inner,
            ),
        ),
        max_leaves=6,
    )
    return mostly(tree, st.text(max_size=40) | hostile_text, odds=4)


def query_strings() -> st.SearchStrategy[dict[str, str]]:
    """List query parameters (RFC 7644 §3.4.2), each sane or not."""
    integer_text = st.integers(-(10**20), 10**20).map(str) | st.text(max_size=6)
    attribute_list = st.lists(
        st.sampled_from(FILTER_ATTRIBUTES) | st.text(max_size=8), max_size=3
    ).map(",".join)
    return st.fixed_dictionaries(
        {},
        optional={
            "filter": filters(),
            "startIndex": integer_text,
            "count": integer_text,
            "attributes": attribute_list,
            "excludedAttributes": attribute_list,
            "sortBy": st.sampled_from(FILTER_ATTRIBUTES) | st.text(max_size=8),
            "sortOrder": st.sampled_from(["ascending", "descending", "DESCENDING", "up"])
            | st.text(max_size=5),
        },
    )
