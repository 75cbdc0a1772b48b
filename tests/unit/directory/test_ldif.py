"""LDIF change records (RFC 2849) and the recording directory's assertion check."""

from __future__ import annotations

from gateway.directory import ldapfilter as lf
from gateway.directory.entry import Entry, Modification, ModOp
from gateway.directory.ldif import ChangeRecord, line, render
from gateway.directory.recording import RecordingDirectory, holds


def test_unsafe_values_are_base64() -> None:
    assert line("cn", "plain value") == "cn: plain value"
    assert line("cn", " leading") == "cn:: IGxlYWRpbmc="
    assert line("cn", "trailing ") == "cn:: dHJhaWxpbmcg"
    assert line("cn", ":colon") == "cn:: OmNvbG9u"
    assert line("cn", "Jürgen") == "cn:: SsO8cmdlbg=="
    assert line("description", "two\nlines") == "description:: dHdvCmxpbmVz"


def test_records_render_as_ldapmodify_input() -> None:
    records = [
        ChangeRecord.add("uid=a,dc=x", {"uid": ["a"], "objectclass": ["top", "person"]}),
        ChangeRecord(
            "modify",
            "cn=c,dc=x",
            modifications=(
                Modification("uidNumber", ModOp.INCREMENT, ("1",)),
                Modification("title", ModOp.REPLACE, ()),
            ),
            comments=("only if (uidNumber<=9)",),
        ),
        ChangeRecord("modrdn", "uid=a,dc=x", new_rdn="uid=b", new_superior="ou=y,dc=x"),
        ChangeRecord("delete", "uid=b,ou=y,dc=x"),
    ]
    assert render(records, {"uid": "uid"}) == (
        "version: 1\n\n"
        "dn: uid=a,dc=x\nchangetype: add\nobjectClass: top\nobjectClass: person\nuid: a\n\n"
        "# only if (uidNumber<=9)\ndn: cn=c,dc=x\nchangetype: modify\n"
        "increment: uidNumber\nuidNumber: 1\n-\nreplace: title\n-\n\n"
        "dn: uid=a,dc=x\nchangetype: modrdn\nnewrdn: uid=b\ndeleteoldrdn: 1\n"
        "newsuperior: ou=y,dc=x\n\n"
        "dn: uid=b,ou=y,dc=x\nchangetype: delete\n"
    )


def test_assertions_are_evaluated_like_the_directory_would() -> None:
    entry = Entry("cn=c,dc=x", {"uidnumber": ("10",), "member": ("CN=P,DC=X",)})
    in_range = lf.And((lf.GreaterOrEqual("uidNumber", "9"), lf.LessOrEqual("uidNumber", "10")))
    assert holds(in_range, entry)
    assert not holds(lf.LessOrEqual("uidNumber", "9"), entry)  # numbers, not strings
    assert holds(lf.Equal("member", "cn=p,dc=x"), entry)  # DNs compare normalized
    assert holds(lf.Not(lf.Present("title")), entry)


def test_offline_recording_answers_like_an_empty_directory() -> None:
    recorder = RecordingDirectory()
    assert recorder.search("dc=x", "sub", lf.MATCH_ALL, []) == []
    created = recorder.add("uid=a,dc=x", {"uid": ["a"]}, read_back=["entryUUID"])
    assert created.first("entryUUID") == "00000000-0000-4000-8000-000000000001"
    assert recorder.read("uid=a,dc=x", ["uid"]) == Entry("uid=a,dc=x", {"uid": ("a",)})
    assert [r.kind for r in recorder.records] == ["add"]
