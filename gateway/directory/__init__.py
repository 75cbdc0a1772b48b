"""The directory layer: the only package that imports ldap3.

It knows LDAP (DNs, filters, entries, result codes, connections) and nothing of SCIM or
HTTP. Callers get :class:`~gateway.directory.entry.Entry` values back and
:class:`~gateway.errors.DirectoryError` subclasses on failure.
"""
