"""The exception tree says what it stands for, and every class in it is used.

Each ScimError class names its RFC 7644 §3.12 row (status, scimType) and each DirectoryError
class the LDAP result codes the one table in ``gateway.directory.operations`` turns into it;
these tests hold the docstrings to the numbers, so a changed table or status cannot leave a
docstring that says otherwise. A class nothing raises fails here until it is deleted.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from gateway import errors
from gateway.directory.messages import Result
from gateway.directory.operations import _RESULT_ERRORS, Directory
from gateway.provisioning.errors import to_scim_error

PACKAGE = Path(errors.__file__).resolve().parent

CLASSES = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.GatewayError) and cls.__module__ == errors.__name__
]


def _mentions(doc: str, number: int) -> bool:
    return re.search(rf"(?<![\d.§]){number}(?![\d.])", doc) is not None


def test_every_class_has_a_docstring_of_its_own() -> None:
    missing = [c.__name__ for c in CLASSES if not c.__dict__.get("__doc__")]
    assert not missing, f"no docstring: {missing}"


@pytest.mark.parametrize(
    "cls", [c for c in CLASSES if issubclass(c, errors.ScimError) and c is not errors.ScimError]
)
def test_a_scim_error_names_its_status_and_scim_type(cls: type[errors.ScimError]) -> None:
    doc = cls.__doc__ or ""
    assert _mentions(doc, cls.status), f"{cls.__name__}: status {cls.status} not in docstring"
    if cls.scim_type:
        assert f"``{cls.scim_type}``" in doc, f"{cls.__name__}: scimType not in docstring"
    elif "ServiceUnavailable" not in doc:
        assert "RFC 7644 §3.12" in doc or "RFC 9110" in doc, cls.__name__


@pytest.mark.parametrize("code", sorted(_RESULT_ERRORS))
def test_a_directory_error_names_the_result_codes_that_become_it(code: int) -> None:
    cls = _RESULT_ERRORS[code]
    assert _mentions(cls.__doc__ or "", code), f"{cls.__name__} does not name result {code}"


def test_no_docstring_names_a_result_code_the_table_gives_another_class() -> None:
    """A code moved to another class in the table must leave the old docstring too."""
    wrong = []
    for code, cls in _RESULT_ERRORS.items():
        for other in CLASSES:
            if not issubclass(other, errors.DirectoryError) or other is errors.DirectoryError:
                continue
            if other is cls or issubclass(cls, other):  # a base may list its subclasses' codes
                continue
            if other is errors.PasswordRefused:  # 19 and 53 of a Password Modify, by design
                continue
            if re.search(rf"\b(?:results?|or|,) {code} [a-z]", other.__doc__ or ""):
                wrong.append(f"{other.__name__} names {code}, which the table gives {cls.__name__}")
    assert not wrong, wrong


def test_every_class_is_raised_somewhere_or_is_a_base() -> None:
    """Raised (or built, e.g. by to_scim_error), a value of the result-code table, or the base
    of another class: anything else is dead weight a reader must reason about."""
    built: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                built.add(node.func.id)
            elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Name):
                built.add(node.exc.id)
    built |= {cls.__name__ for cls in _RESULT_ERRORS.values()}
    bases = {base.__name__ for cls in CLASSES for base in cls.__bases__}
    unused = [c.__name__ for c in CLASSES if c.__name__ not in built | bases]
    assert not unused, f"never raised: {unused}"


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (16, errors.NoSuchAttribute),
        (20, errors.ValueExists),
        (65, errors.ObjectClassViolation),
        (21, errors.SchemaViolation),
    ],
)
def test_schema_refusals_become_named_classes_that_are_still_schema_violations(
    code: int, cls: type[errors.SchemaViolation]
) -> None:
    with pytest.raises(errors.SchemaViolation) as caught:
        Directory._check("modify", "cn=g,dc=x", Result(code, message="attribute 'x' refused"))
    assert type(caught.value) is cls
    assert caught.value.result_code == code
    scim = to_scim_error(caught.value, "Group")
    assert (scim.status, scim.scim_type) == (400, "invalidValue")
    assert f"LDAP result {code}" in scim.detail
