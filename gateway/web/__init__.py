"""HTTP: Flask blueprints, bearer auth, the SCIM wire format and the one error handler.

Knows Flask and SCIM JSON; never touches ldap3 (it calls ``gateway.provisioning``).
"""
