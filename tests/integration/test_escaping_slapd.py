"""DN and filter escaping round trips through slapd itself (issue 12, item 6).

For each generated value: the gateway builds the DN (``dn.child_dn``) and adds the entry
through its own LDAP codec; the entry is then read back by a base search on that DN, found
by an equality filter sent as BER (``ldapfilter.Equal``) and by the same filter rendered as
RFC 4515 text and parsed by ldap3, and the value and name slapd hands back must be the
value sent. ``ESCAPING_EXAMPLES`` sets the number of examples (default 60).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ldap3 import LEVEL, Connection
from support.slapd import Slapd

from gateway.directory import dn
from gateway.directory import ldapfilter as lf
from gateway.directory.operations import Directory
from gateway.directory.pool import ConnectionPool, ConnectionSettings

pytestmark = pytest.mark.slapd

EXAMPLES = int(os.environ.get("ESCAPING_EXAMPLES", "60"))
_bases = itertools.count()

HOSTILE = "".join([" ", "#", ",", "+", '"', "\\", "<", ">", ";", "=", "*", "(", ")", "\n", "\r"])
VALUES = st.text(
    alphabet=st.one_of(
        st.sampled_from(HOSTILE + "\t\x01\x7f"),
        st.characters(codec="utf-8", exclude_characters="\x00"),  # no NUL, no surrogate
    ),
    min_size=1,
    max_size=24,
)
"""RDN values: the characters RFC 4514 and 4515 treat specially, often, and any other."""


@pytest.fixture(scope="module")
def directory(slapd: Slapd) -> Iterator[Directory]:
    pool = ConnectionPool(
        ConnectionSettings(
            urls=(slapd.url,), bind_dn=slapd.admin_dn, bind_password=slapd.admin_password
        )
    )
    try:
        yield Directory(pool)
    finally:
        pool.close_all()


@pytest.fixture(scope="module")
def base(slapd: Slapd, directory: Directory) -> str:
    top = f"ou=escaping{os.getpid()}x{next(_bases)},{slapd.suffix}"
    directory.add(top, {"objectClass": ["organizationalUnit"], "ou": [dn.rdn_value(top)]})
    return top


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=VALUES)
def test_an_rdn_value_round_trips_through_slapd(
    directory: Directory, ldap_admin: Connection, base: str, value: str
) -> None:
    name = dn.child_dn("cn", value, base)
    directory.add(name, {"objectClass": ["device"], "cn": [value]})
    try:
        read = directory.read(name, ["cn"])
        assert read is not None, f"no entry at the DN built for {value!r}"
        assert read.get("cn") == (value,)
        assert dn.rdn_value(read.dn) == value
        assert dn.normalize(read.dn) == dn.normalize(name)

        found = directory.search(base, "one", lf.Equal("cn", value), ["cn"])
        assert [dn.rdn_value(e.dn) for e in found] == [value]

        text = lf.render(lf.Equal("cn", value))
        assert ldap_admin.search(base, text, LEVEL, attributes=["cn"]), (text, ldap_admin.result)
        assert [e["attributes"]["cn"] for e in ldap_admin.response] == [[value]]
    finally:
        directory.delete(name)


@pytest.mark.parametrize("value", [" ", "   ", "a\nb", "a\rb", "a\tb", " #lead", "trail "])
def test_the_values_ldap3_escaped_wrongly_round_trip(
    directory: Directory, base: str, value: str
) -> None:
    name = dn.child_dn("cn", value, base)
    directory.add(name, {"objectClass": ["device"], "cn": [value]})
    try:
        read = directory.read(name, ["cn"])
        assert read is not None and read.get("cn") == (value,)
        assert dn.rdn_value(read.dn) == value
    finally:
        directory.delete(name)
