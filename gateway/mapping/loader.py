"""Load a mapping YAML file strictly into :class:`~gateway.mapping.model.Mapping`.

The language, with a fully annotated example and the LDAP operation each block becomes, is
in docs/mapping.md. In short::

    version: 1
    directory: {version_attribute: entryCSN}  # server quirks (behaviour.py), optional
    User:                                   # or Group
      base_dn: ou=People,dc=example,dc=org  # searches start here (base of every SCIM list)
      scope: one                            # one | sub
      object_classes: [top, person, organizationalPerson, inetOrgPerson]   # written on add
      filter: (objectClass=inetOrgPerson)   # ANDed into every search
      rdn_attribute: uid                    # new entries are <rdn_attribute>=<value>,<base_dn>
      id_attribute: entryUUID               # SCIM id
      unmapped: ignore                      # ignore | reject SCIM attributes without a rule
      disable: {strategy: ppolicy}          # ppolicy | boolean | move | bitmask (disable.py)
                                            # (mark_attribute/mark_value: a second mark)
      members: {ldap: member, types: [User, Group], placeholder: <DN>}   # groups only
                                            # (member_of: memberOf, member_value: dn | uid)
      attributes:
        - scim: name.familyName             # a SCIM path (RFC 7644 §3.5.2 form)
          ldap: sn
          default: ["{userName}"]           # templates tried in order when the value is absent
          converter: string                 # string lowercase boolean integer generalizedTime
          write: readWrite                  # readWrite | readOnly | createOnly | ignore
          reference: [User]                 # the LDAP value is a DN of that resource type
          primary: false                    # mark this typed value primary on read
        - ldap: loginShell                  # LDAP-only rules (no scim): exactly one of
          constant: /bin/bash               #   constant | template: [...] | allocate:
          write: createOnly                 #   createOnly (default) | readWrite
        - ldap: uidNumber
          allocate: {counter: cn=uidNumber-counter,dc=example,dc=org, first: 10000, last: 59999}

This module checks shapes and types (marshmallow, strict); gateway.mapping.compiler checks
meaning and builds the frozen rules. Unknown keys and bad values are errors; every error is
reported at once with its YAML path and line, so an administrator fixes a file in one pass.
Checks against a live directory's schema are in gateway.mapping.check (``mapping check``).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from gateway.errors import ConfigError
from gateway.mapping import behaviour
from gateway.mapping.compiler import compile_resource, cross_check
from gateway.mapping.converters import REGISTRY
from gateway.mapping.declarations import declared_types
from gateway.mapping.disable import STRATEGIES
from gateway.mapping.model import MEMBER_VALUE_DN, WRITE_POLICIES, Mapping, ResourceMapping
from gateway.scim.registry import BUILTIN


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _Values(fields.Field):
    """A scalar or a list of scalars (strings or numbers), kept as a list of strings."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        items = value if isinstance(value, list) else [value]
        if not items or any(isinstance(v, bool) or not isinstance(v, str | int) for v in items):
            raise ValidationError("expected a string, a number, or a list of them")
        return [str(v) for v in items]


class _AllocateSchema(_Strict):
    counter = fields.String(required=True, validate=validate.Length(min=1))
    first = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    last = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))


class _RuleSchema(_Strict):
    scim = fields.String(load_default=None)
    ldap = fields.String(required=True, validate=validate.Length(min=1))
    default = fields.List(fields.String(), load_default=list)
    constant = _Values(load_default=None)
    template = _Values(load_default=None)
    allocate = fields.Nested(_AllocateSchema, load_default=None)
    converter = fields.String(load_default=None, validate=validate.OneOf(sorted(REGISTRY)))
    write = fields.String(load_default=None, validate=validate.OneOf(WRITE_POLICIES))
    reference = fields.List(
        fields.String(validate=validate.OneOf(sorted(BUILTIN.names()))), load_default=list
    )
    primary = fields.Boolean(load_default=False)


class _DisableField(fields.Field):
    """``disable:``: ``strategy`` and that strategy's own keys (its ``Keys`` schema in
    gateway/mapping/disable.py), so each strategy accepts exactly the keys it uses."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, dict):
            raise ValidationError("expected a mapping with a 'strategy' key")
        name = value.get("strategy")
        strategy = STRATEGIES.get(name) if isinstance(name, str) else None
        if strategy is None:
            raise ValidationError({"strategy": [f"must be one of: {', '.join(STRATEGIES)}"]})
        try:
            keys = strategy.Keys().load({k: v for k, v in value.items() if k != "strategy"})
        except ValidationError as err:
            known = ", ".join(strategy.Keys().fields) or "none"
            raise ValidationError(
                {
                    k: f"the {name} strategy does not use {k!r} (its keys: {known})"
                    if m == ["Unknown field."]
                    else m
                    for k, m in err.messages_dict.items()
                }
            ) from err
        return {"strategy": name, **keys}


class _MembersSchema(_Strict):
    ldap = fields.String(required=True)
    types = fields.List(
        fields.String(validate=validate.OneOf(sorted(BUILTIN.names()))), load_default=["User"]
    )
    placeholder = fields.String(load_default=None)
    member_of = fields.String(load_default=None)
    member_value = fields.String(load_default=MEMBER_VALUE_DN, validate=validate.Length(min=1))


class _ResourceSchema(_Strict):
    base_dn = fields.String(required=True, validate=validate.Length(min=1))
    scope = fields.String(load_default="one", validate=validate.OneOf(["one", "sub"]))
    object_classes = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    filter = fields.String(load_default=None)
    rdn_attribute = fields.String(required=True)
    id_attribute = fields.String(load_default="entryUUID")
    unmapped = fields.String(load_default="ignore", validate=validate.OneOf(["ignore", "reject"]))
    disable = _DisableField(load_default=None)
    members = fields.Nested(_MembersSchema, load_default=None)
    attributes = fields.List(fields.Nested(_RuleSchema), required=True)


class _FileSchema(_Strict):
    version = fields.Integer(required=True, validate=validate.Equal(1))
    directory = fields.Nested(behaviour.DirectorySchema, load_default=None)  # server quirks
    User = fields.Nested(_ResourceSchema)
    Group = fields.Nested(_ResourceSchema)
    # the file's own resource types; checked by gateway.mapping.declarations
    schemas = fields.Raw(load_default=None)
    resource_types = fields.Raw(load_default=None)


@functools.lru_cache(maxsize=16)
def _file_schema(names: tuple[str, ...]) -> type[Schema]:
    """``_FileSchema`` with a section for each type in ``names`` (the file's registry), and
    references and member types checked against them."""
    if names == BUILTIN.names():
        return _FileSchema
    known = validate.OneOf(sorted(names))

    class _Rule(_RuleSchema):
        reference = fields.List(fields.String(validate=known), load_default=list)

    class _Members(_MembersSchema):
        types = fields.List(fields.String(validate=known), load_default=["User"])

    class _Resource(_ResourceSchema):
        members = fields.Nested(_Members, load_default=None)
        attributes = fields.List(fields.Nested(_Rule), required=True)

    return _FileSchema.from_dict({n: fields.Nested(_Resource) for n in names}, name="_File")


def load_mapping(path: str | Path) -> Mapping:
    """Read, validate and compile a mapping file; raise ConfigError with every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"cannot read {path}: {err.strerror}"], f"mapping {path}") from err
    return load_mapping_text(text, str(path))


def load_mapping_text(text: str, source: str = "<text>") -> Mapping:
    """Validate and compile mapping YAML given as text; ``source`` names it in messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        raise ConfigError([f"{source}: not valid YAML: {err}"], f"mapping {source}") from err
    lines: dict[str, int] = {}
    data = _to_python(node, "", lines) if node is not None else None
    located = Mapping({}, source, lines)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the file must be a YAML mapping"], f"mapping {source}")
    declared = declared_types(data)  # schemas: and resource_types:, checked first
    for prefix, messages in declared.problems:
        for p, msg in _flatten(messages, prefix):
            problems.append(f"{located.where(p)}: {p}: {msg}")
    registry = declared.registry
    for name in registry.names():
        if name not in BUILTIN and name not in data:
            here = f"resource_types.{name}"
            problems.append(f"{located.where(here)}: {here}: no {name}: section maps it")
    try:
        loaded = _file_schema(declared.section_names)().load(data)
    except ValidationError as err:
        for p, msg in _flatten(err.messages):
            problems.append(f"{located.where(p)}: {p}: {msg}")
        raise ConfigError(problems, f"mapping {source}") from err
    resources: dict[str, ResourceMapping] = {}
    for name in registry.names():  # the registry's order: the order types are served in
        if name in loaded:
            res = compile_resource(name, loaded[name], problems, located.where, registry)
            if res is not None:
                resources[name] = res
    defined = [n for n in declared.section_names if n in loaded]  # a broken one too
    if not defined:
        problems.append(f"{source}: define at least one of {', '.join(registry.names())}")
    problems += cross_check(resources, located.where, defined)
    server = behaviour.compile_directory(
        loaded["directory"],
        resources,
        lambda p, m: problems.append(f"{located.where(p)}: {p}: {m}"),
    )
    if problems:
        raise ConfigError(problems, f"mapping {source}")
    return Mapping(behaviour.apply(resources, server), source, lines, server)


def _to_python(node: yaml.Node, path: str, lines: dict[str, int]) -> Any:
    """Build plain Python from a composed YAML node, noting each path's line number."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(yaml.SafeLoader(" ").construct_object(key_node))
            child = f"{path}.{key}" if path else key
            if key in out:
                lines[child] = key_node.start_mark.line + 1
                out[f"{key} (duplicate key)"] = None
                continue
            out[key] = _to_python(value_node, child, lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, f"{path}.{i}", lines) for i, v in enumerate(node.value)]
    return yaml.SafeLoader(" ").construct_object(node)


def _flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            out.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out.append((prefix, "; ".join(messages)))
    elif isinstance(messages, list):
        for m in messages:
            out.extend(_flatten(m, prefix))
    else:
        out.append((prefix, str(messages)))
    return out
