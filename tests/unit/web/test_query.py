"""The query parameters the resource views read (gateway/web/resources._query): the same answers
to ``get`` and ``in`` as Werkzeug's ``request.args``, for every name, whatever the query string."""

from __future__ import annotations

import pytest
from flask import Flask, request

from gateway.web.resources import _query

NAMES = ("filter", "attributes", "excludedAttributes", "startIndex", "count", "sortOrder", "sortBy")
QUERIES = [
    "",
    "&",
    "=",
    "filter",
    "filter=",
    "count=2&count=3",
    "attributes=userName&attributes=name",
    "filter=userName%20eq%20%22a%26b%22&startIndex=1",
    "excludedAttributes=members&sortBy=",
    "a=%ZZ&sortOrder=descending",
    "filter=%C3%A9+x",
    "filter=%FF",
    "Count=1",
]


@pytest.mark.parametrize("query", QUERIES)
def test_query_answers_as_request_args(query: str) -> None:
    app = Flask("t")
    with app.test_request_context("/scim/v2/Users", query_string=query):
        args, plain = request.args, _query()
        for name in (*NAMES, *args.keys(), "a", "", "missing"):
            assert plain.get(name) == args.get(name), (query, name)
            assert (name in plain) == (name in args), (query, name)
