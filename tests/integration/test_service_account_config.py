"""The shipped cn=config LDIF for the service account applies to a real slapd configuration,
and says the same as the slapd.conf rules the e2e suite runs under.

docker/slapd/service-account-config.ldif is what an admin with an OLC directory applies; the
test slapd (slapd.conf.template) carries the same ACLs, limits and indexes, and
tests/e2e/test_least_privilege.py runs the gateway under them. Here: a stock slapd.conf is
converted to cn=config with slaptest, the LDIF is applied with slapmodify (offline, the way
ldapmodify would change the running config), and the result is checked by slaptest and compared
rule by rule with the template.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.slapd import REPO_ROOT

SLAPD_DIR = REPO_ROOT / "docker" / "slapd"
CONFIG_LDIF = SLAPD_DIR / "service-account-config.ldif"
SUFFIX = "dc=example,dc=org"

pytestmark = pytest.mark.skipif(
    not (shutil.which("slaptest") or Path("/usr/sbin/slaptest").exists()),
    reason="needs slaptest/slapmodify (slapd)",
)

STOCK = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload ppolicy
database mdb
suffix "{suffix}"
directory {db}
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
index objectClass eq
overlay memberof
overlay ppolicy
"""


def tool(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def unfold(text: str) -> list[str]:
    """LDIF lines with continuations joined, comments dropped."""
    out: list[str] = []
    for line in text.splitlines():
        if line.startswith(" ") and out:
            out[-1] += line[1:]
        elif not line.startswith("#"):
            out.append(line)
    return out


def words(rule: str) -> str:
    return " ".join(rule.split())


def template_rules() -> list[str]:
    """The template's ``access to`` rules that concern the account or the disable mark (not
    its cn=config rule: that one only lets ``mapping check`` read indexes and limits)."""
    text = (SLAPD_DIR / "slapd.conf.template").read_text().replace("@SUFFIX@", SUFFIX)
    rules = re.findall(r"^access to .*?(?=\n\n|\n#|\Z)", text, flags=re.M | re.S)
    mine = [r for r in rules if "scim-gateway" in r and "cn=config" not in r]
    return [words(r.removeprefix("access ")) for r in mine]


def test_the_cn_config_ldif_applies_and_matches_the_slapd_conf_rules(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    conf_dir = tmp_path / "slapd.d"
    conf_dir.mkdir()
    conf = tmp_path / "slapd.conf"
    conf.write_text(STOCK.format(suffix=SUFFIX, db=tmp_path / "db"))
    # converts, then fails to open the (never created) database: only the conversion matters
    converted = run(tool("slaptest"), "-f", str(conf), "-F", str(conf_dir))
    assert (conf_dir / "cn=config.ldif").exists(), converted.stderr

    applied = run(tool("slapmodify"), "-F", str(conf_dir), "-n0", "-l", str(CONFIG_LDIF))
    assert applied.returncode == 0, applied.stderr
    checked = run(tool("slaptest"), "-u", "-F", str(conf_dir))
    assert checked.returncode == 0, checked.stderr

    (database,) = conf_dir.glob("cn=config/olcDatabase={1}mdb.ldif")
    lines = unfold(database.read_text())
    access = [re.sub(r"^olcAccess: \{\d+\}", "", ln) for ln in lines if ln.startswith("olcAccess:")]
    shipped = template_rules()
    assert len(shipped) == 9
    assert [words(a) for a in access[: len(shipped)]] == shipped  # first, in the same order
    assert [words(a) for a in access[len(shipped) :]] == [  # the existing rules follow
        "to attrs=userPassword by self write by anonymous auth by * none",
        "to * by users read by * none",
    ]
    limits = [ln for ln in lines if ln.startswith("olcLimits:")]
    assert len(limits) == 1 and "size.pr=unlimited size.prtotal=unlimited" in limits[0]
    indexed = {
        name.lower()
        for ln in lines
        if ln.startswith("olcDbIndex:")
        for name in ln.split()[1].split(",")
    }
    assert {"entryuuid", "uid", "cn", "businesscategory", "member", "memberof"} <= indexed
