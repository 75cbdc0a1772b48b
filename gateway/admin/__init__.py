"""Administrator tools behind the ``scim-gateway mapping`` commands (check, explain).

Composition code like ``gateway.app``: these modules may use every layer; nothing in the
request path imports them.
"""
