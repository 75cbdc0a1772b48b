"""scim-ldap-gateway: SCIM 2.0 (RFC 7643/7644) in front of an LDAP directory."""

__version__ = "0.1.0"
