"""RFC 7644 §3.4.2.2 filter parsing: AST shapes, literals, hostile values and errors."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidFilter
from gateway.scim.filter import (
    MAX_FILTER_DEPTH,
    MAX_FILTER_LENGTH,
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    ValuePath,
    format_filter,
    parse_filter,
)

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def p(attr: str, sub: str | None = None, schema: str | None = None) -> AttrPath:
    return AttrPath(schema, attr, sub)


def eq(attr: str, value: object) -> Compare:
    return Compare(p(attr), "eq", value)  # type: ignore[arg-type]


# The examples of RFC 7644 §3.4.2.2 (Figure 3 and the text around it).
RFC_EXAMPLES: list[tuple[str, Filter]] = [
    ('userName Eq "john"', eq("userName", "john")),
    ('Username eq "john"', eq("Username", "john")),
    ('userName eq "bjensen"', eq("userName", "bjensen")),
    ('name.familyName co "O\'Malley"', Compare(p("name", "familyName"), "co", "O'Malley")),
    ('userName sw "J"', Compare(p("userName"), "sw", "J")),
    (
        f'{USER}:userName sw "J"',
        Compare(p("userName", schema=USER), "sw", "J"),
    ),
    ("title pr", Present(p("title"))),
    (
        'meta.lastModified gt "2011-05-13T04:42:34Z"',
        Compare(p("meta", "lastModified"), "gt", "2011-05-13T04:42:34Z"),
    ),
    (
        'meta.lastModified ge "2011-05-13T04:42:34Z"',
        Compare(p("meta", "lastModified"), "ge", "2011-05-13T04:42:34Z"),
    ),
    (
        'meta.lastModified lt "2011-05-13T04:42:34Z"',
        Compare(p("meta", "lastModified"), "lt", "2011-05-13T04:42:34Z"),
    ),
    (
        'meta.lastModified le "2011-05-13T04:42:34Z"',
        Compare(p("meta", "lastModified"), "le", "2011-05-13T04:42:34Z"),
    ),
    ('title pr and userType eq "Employee"', And(Present(p("title")), eq("userType", "Employee"))),
    ('title pr or userType eq "Intern"', Or(Present(p("title")), eq("userType", "Intern"))),
    (
        f'schemas eq "{ENTERPRISE}"',
        eq("schemas", ENTERPRISE),
    ),
    (
        'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
        And(
            eq("userType", "Employee"),
            Or(
                Compare(p("emails"), "co", "example.com"),
                Compare(p("emails", "value"), "co", "example.org"),
            ),
        ),
    ),
    (
        'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
        And(
            Compare(p("userType"), "ne", "Employee"),
            Not(
                Or(
                    Compare(p("emails"), "co", "example.com"),
                    Compare(p("emails", "value"), "co", "example.org"),
                )
            ),
        ),
    ),
    (
        'userType eq "Employee" and (emails.type eq "work")',
        And(eq("userType", "Employee"), Compare(p("emails", "type"), "eq", "work")),
    ),
    (
        'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
        And(
            eq("userType", "Employee"),
            ValuePath(
                p("emails"), And(eq("type", "work"), Compare(p("value"), "co", "@example.com"))
            ),
        ),
    ),
    (
        'emails[type eq "work" and value co "@example.com"] or '
        'ims[type eq "xmpp" and value co "@foo.com"]',
        Or(
            ValuePath(
                p("emails"), And(eq("type", "work"), Compare(p("value"), "co", "@example.com"))
            ),
            ValuePath(p("ims"), And(eq("type", "xmpp"), Compare(p("value"), "co", "@foo.com"))),
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), RFC_EXAMPLES, ids=[t for t, _ in RFC_EXAMPLES])
def test_rfc_7644_examples_parse_to_the_expected_tree(text: str, expected: Filter) -> None:
    assert parse_filter(text) == expected


ENTRA_FILTERS: list[tuple[str, Filter]] = [
    (
        'userName eq "7d420df3-2c1b-4b19-a1c5-1c0a2f1e0d7e"',
        eq("userName", "7d420df3-2c1b-4b19-a1c5-1c0a2f1e0d7e"),
    ),
    ('externalId eq "johnwong"', eq("externalId", "johnwong")),
    ('displayName eq "displayName"', eq("displayName", "displayName")),
    ('id eq "x" and manager eq "y"', And(eq("id", "x"), eq("manager", "y"))),
]


@pytest.mark.parametrize(("text", "expected"), ENTRA_FILTERS)
def test_entra_matching_queries_parse(text: str, expected: Filter) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("op", ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"])
@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title])
def test_every_comparison_operator_is_accepted_in_any_case(op: str, spelling) -> None:
    assert parse_filter(f'title {spelling(op)} "x"') == Compare(p("title"), op, "x")


@pytest.mark.parametrize("spelling", ["pr", "PR", "Pr"])
def test_present_operator_takes_no_value(spelling: str) -> None:
    assert parse_filter(f"title {spelling}") == Present(p("title"))


PRECEDENCE: list[tuple[str, Filter]] = [
    ("a pr or b pr and c pr", Or(Present(p("a")), And(Present(p("b")), Present(p("c"))))),
    ("a pr and b pr or c pr", Or(And(Present(p("a")), Present(p("b"))), Present(p("c")))),
    ("(a pr or b pr) and c pr", And(Or(Present(p("a")), Present(p("b"))), Present(p("c")))),
    ("a pr or b pr or c pr", Or(Or(Present(p("a")), Present(p("b"))), Present(p("c")))),
    ("a pr and b pr and c pr", And(And(Present(p("a")), Present(p("b"))), Present(p("c")))),
    ("a pr AND b pr Or c pr", Or(And(Present(p("a")), Present(p("b"))), Present(p("c")))),
    ("not (a pr) and b pr", And(Not(Present(p("a"))), Present(p("b")))),
    ("not(a pr)", Not(Present(p("a")))),
    ("NOT (not (a pr))", Not(Not(Present(p("a"))))),
    ("((a pr))", Present(p("a"))),
    ("  a pr  ", Present(p("a"))),
    ("a\tpr", Present(p("a"))),
    ("(a pr)and(b pr)", And(Present(p("a")), Present(p("b")))),
]


@pytest.mark.parametrize(("text", "expected"), PRECEDENCE, ids=[t for t, _ in PRECEDENCE])
def test_and_binds_tighter_than_or_and_parentheses_group(text: str, expected: Filter) -> None:
    assert parse_filter(text) == expected


LITERALS: list[tuple[str, object]] = [
    ('"plain"', "plain"),
    ('""', ""),
    ('"quote \\" inside"', 'quote " inside'),
    ('"back\\\\slash"', "back\\slash"),
    ('"\\u00e9t\\u00e9"', "été"),
    ('"été"', "été"),
    ('"日本語"', "日本語"),
    ('"\\ud83d\\ude00"', "\U0001f600"),
    ('"tab\\tnew\\nline\\/slash"', "tab\tnew\nline/slash"),
    ("true", True),
    ("TRUE", True),
    ("False", False),
    ("null", None),
    ("NULL", None),
    ("0", 0),
    ("42", 42),
    ("-7", -7),
    ("1.5", 1.5),
    ("-0.25", -0.25),
    ("1e3", 1000.0),
    ("2.5E-2", 0.025),
]


@pytest.mark.parametrize(("literal", "expected"), LITERALS, ids=[lit for lit, _ in LITERALS])
def test_json_literals_are_decoded(literal: str, expected: object) -> None:
    node = parse_filter(f"x eq {literal}")
    assert isinstance(node, Compare)
    assert node.value == expected
    assert type(node.value) is type(expected)


HOSTILE: list[tuple[str, str]] = [
    ('"*"', "*"),
    ('"a*b"', "a*b"),
    ('")("', ")("),
    ('"(uid=*)"', "(uid=*)"),
    ('"a\\\\b"', "a\\b"),
    ('"\\u0000"', "\x00"),
    ('"nul\\u0000inside"', "nul\x00inside"),
    ('"] or userName pr"', "] or userName pr"),
    ('"\\" or \\"\\"=\\""', '" or ""="'),
    ('"cn=admin,dc=example,dc=org"', "cn=admin,dc=example,dc=org"),
    ('", + \\" < > ; = #"', ', + " < > ; = #'),
    ('"Åsa Ñúñez 张伟"', "Åsa Ñúñez 张伟"),
]


@pytest.mark.parametrize(("literal", "expected"), HOSTILE, ids=[h for _, h in HOSTILE])
def test_hostile_values_come_through_as_exact_strings(literal: str, expected: str) -> None:
    assert parse_filter(f"userName eq {literal}") == eq("userName", expected)


URN_PATHS: list[tuple[str, AttrPath]] = [
    (f"{ENTERPRISE}:employeeNumber", p("employeeNumber", schema=ENTERPRISE)),
    (f"{ENTERPRISE}:manager.value", p("manager", "value", ENTERPRISE)),
    (f"{USER}:name.givenName", p("name", "givenName", USER)),
    (f"{USER}:userName", p("userName", schema=USER)),
    ("members.$ref", p("members", "$ref")),
    ("x509Certificates.value", p("x509Certificates", "value")),
    ("my-attr_2", p("my-attr_2")),
]


@pytest.mark.parametrize(("text", "expected"), URN_PATHS, ids=[t for t, _ in URN_PATHS])
def test_attribute_paths_split_the_urn_at_the_last_colon(text: str, expected: AttrPath) -> None:
    assert parse_filter(f'{text} eq "1"') == Compare(expected, "eq", "1")


def test_value_filter_paths_are_relative_to_the_attribute() -> None:
    node = parse_filter('emails[not (type eq "work") or primary eq true]')
    assert node == ValuePath(
        p("emails"), Or(Not(eq("type", "work")), Compare(p("primary"), "eq", True))
    )


def test_entra_email_matching_filter_is_a_test_on_the_selected_value() -> None:
    """Entra's ``emails[type eq "work"].value eq "x"`` (entra-scim.md §10)."""
    node = parse_filter('emails[type eq "work"].value eq "x@contoso.com"')
    assert node == ValuePath(p("emails"), And(eq("type", "work"), eq("value", "x@contoso.com")))
    assert format_filter(node) == 'emails[type eq "work" and value eq "x@contoso.com"]'


def test_sub_attribute_after_value_filter_keeps_or_grouping_and_joins_with_and() -> None:
    node = parse_filter('EMAILS[type eq "work" or type eq "home"].Value pr and userName eq "a\\"b"')
    inner = And(Or(eq("type", "work"), eq("type", "home")), Present(p("Value")))
    assert node == And(ValuePath(p("EMAILS"), inner), eq("userName", 'a"b'))
    assert parse_filter(format_filter(node)) == node


def test_sub_attribute_after_value_filter_keeps_hostile_values_verbatim() -> None:
    node = parse_filter('emails[type eq "work"].value eq "*)(uid=*\\\\"')
    assert node == ValuePath(p("emails"), And(eq("type", "work"), eq("value", "*)(uid=*\\")))


def test_urn_qualified_value_filter() -> None:
    node = parse_filter(f'{USER}:emails[type eq "work"]')
    assert node == ValuePath(p("emails", schema=USER), eq("type", "work"))


def test_attr_path_dotted_and_qualified_renderings() -> None:
    path = p("name", "givenName", USER)
    assert path.dotted() == "name.givenName"
    assert path.qualified() == f"{USER}:name.givenName"
    assert p("userName").dotted() == "userName"


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "x"',
        'a pr or b pr and (c pr or not (d eq "\\u0000\\"\\\\"))',
        'emails[type eq "work" and not (value ew ".org")] or title pr',
        f'{ENTERPRISE}:manager.value eq "m" and x gt 1.5 and y le -3 and z eq null',
    ],
)
def test_format_filter_round_trips(text: str) -> None:
    node = parse_filter(text)
    assert parse_filter(format_filter(node)) == node


ERRORS: list[tuple[str, str]] = [
    ("", "the filter is empty"),
    ("   ", "the filter is empty"),
    ("userName", "position 8: expected a space then an operator"),
    ("userName eq", "position 11: expected a space then a value after 'eq'"),
    (
        'userName = "x"',
        "position 9: expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)",
    ),
    ('userName like "x"', "found 'like \"x\"'"),
    ('userName eq "x" and', "position 19: expected an attribute name, '(' or 'not'"),
    ('userName eq "x" userName pr', "expected 'and', 'or' or the end of the filter"),
    ('userName eq "x"and title pr', "expected a space, ')', ']' or the end after the value"),
    ('(userName eq "x"', "position 16: expected ')'"),
    ('userName eq "x")', "position 15: expected 'and', 'or' or the end of the filter, found ')'"),
    ('emails[type eq "work"', "expected ']'"),
    ('emails[type eq "work"].value', "expected a space then an operator"),
    ('emails[type eq "work"].', "expected a sub-attribute name after '].'"),
    ('emails[type eq "work"].value.x eq "1"', "expected an operator after the sub-attribute"),
    ('emails[type eq "work"].value[type eq "x"] pr', "expected an operator after the sub"),
    ('emails[roles[value eq "x"]]', "value filters [...] cannot be nested"),
    ('emails[name.givenName eq "x"]', "a sub-attribute name without '.' inside [...]"),
    (f'emails[{USER}:type eq "x"]', "no schema URN inside [...]"),
    ('name.givenName[value eq "x"]', "'name.givenName' is a sub-attribute"),
    ('userName eq "unterminated', "expected a valid JSON string (Unterminated string"),
    ('userName eq "bad \\x escape"', "Invalid \\escape"),
    ('userName eq "\\u12"', "Invalid \\uXXXX escape"),
    ('userName eq "raw\ncontrol"', "Invalid control character"),
    ('userName eq "\\ud800"', "unpaired surrogate"),
    ("userName eq 'single'", "(strings take double quotes)"),
    ("userName eq bareword", "expected a value"),
    ("userName eq 1e999", "the number 1e999 is out of range"),
    ("userName eq 12abc", "after the value"),
    ("userName eq 01", "after the value"),
    ("active gt true", "'gt' compares strings, numbers or dates, not true"),
    ("x le null", "'le' compares strings, numbers or dates, not null"),
    ("x ge false", "'ge' compares strings, numbers or dates"),
    ("x co 1", "'co' needs a string value, not 1"),
    ("x sw true", "'sw' needs a string value, not true"),
    ("x ew null", "'ew' needs a string value, not null"),
    ('x pr"y"', "expected a space, ')', ']' or the end after 'pr'"),
    ('x pr "y"', "expected 'and', 'or' or the end of the filter, found '\"y\"'"),
    ("not userName pr", "expected '(' after 'not'"),
    ('1abc eq "x"', "expected an attribute name (a letter"),
    ('a.b.c eq "x"', "at most one '.'"),
    ('name. eq "x"', "expected an attribute name"),
    ('urn:x: eq "x"', "expected an attribute name"),
    ('9urn:x:y eq "x"', "expected a schema URN"),
    ('$foo eq "x"', "expected an attribute name"),
    ("()", "position 1: expected an attribute name, found ')'"),
    ("emails[]", "position 7: expected an attribute name, found ']'"),
]


@pytest.mark.parametrize(("text", "detail"), ERRORS, ids=[t or "<empty>" for t, _ in ERRORS])
def test_invalid_filters_are_rejected_with_a_helpful_detail(text: str, detail: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    assert detail in caught.value.detail
    assert caught.value.status == 400
    assert caught.value.scim_type == "invalidFilter"


def test_filter_longer_than_the_limit_is_rejected() -> None:
    text = 'userName eq "' + "x" * MAX_FILTER_LENGTH + '"'
    with pytest.raises(InvalidFilter, match="longer than 4096"):
        parse_filter(text)


def test_filter_at_the_length_limit_is_accepted() -> None:
    value = "x" * (MAX_FILTER_LENGTH - len('userName eq ""'))
    assert parse_filter(f'userName eq "{value}"') == eq("userName", value)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 2000 + "a pr" + ")" * 2000,
        "(" * 51 + "a pr" + ")" * 51,
        "not (" * 51 + "a pr" + ")" * 51,
        " or ".join(["a pr"] * 51),
        " and ".join(["a pr"] * 51),
    ],
    ids=["2000-parentheses", "51-parentheses", "51-nots", "51-ors", "51-ands"],
)
def test_deep_nesting_is_an_invalid_filter_not_a_recursion_error(text: str) -> None:
    with pytest.raises(InvalidFilter, match="nested more than 50 levels deep"):
        parse_filter(text)


def test_nesting_up_to_the_depth_limit_is_accepted() -> None:
    assert parse_filter("(" * MAX_FILTER_DEPTH + "a pr" + ")" * MAX_FILTER_DEPTH) == Present(p("a"))
    chain = parse_filter(" or ".join(["a pr"] * MAX_FILTER_DEPTH))
    assert isinstance(chain, Or)


@pytest.mark.parametrize("value", [None, 42, b"userName pr"])
def test_non_string_filter_is_rejected(value: object) -> None:
    with pytest.raises(InvalidFilter, match="must be a string"):
        parse_filter(value)  # type: ignore[arg-type]


def test_error_detail_names_position_and_what_was_found() -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter('userName eq "x" xor title pr')
    assert caught.value.detail == (
        "invalid filter at position 16: expected 'and', 'or' or the end of the filter,"
        " found 'xor title pr'"
    )
