"""Pure SCIM 2.0 protocol (RFC 7643, RFC 7644): filters, PATCH paths, PATCH engine, schemas.

This package does no I/O and knows nothing of Flask, LDAP or the gateway's mappings: it turns
SCIM text and JSON into checked Python values and back. Import the modules directly
(``gateway.scim.filter``, ``gateway.scim.patch``...); importing the package does nothing.
"""
