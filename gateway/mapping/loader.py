"""Load a mapping YAML file strictly into :class:`~gateway.mapping.model.Mapping`.

The language, with a fully annotated example and the LDAP operation each block becomes, is
in docs/mapping.md. In short::

    version: 1
    User:                                   # or Group
      base_dn: ou=People,dc=example,dc=org  # searches start here (base of every SCIM list)
      scope: one                            # one | sub
      object_classes: [top, person, organizationalPerson, inetOrgPerson]   # written on add
      filter: (objectClass=inetOrgPerson)   # ANDed into every search
      rdn_attribute: uid                    # new entries are <rdn_attribute>=<value>,<base_dn>
      id_attribute: entryUUID               # SCIM id
      unmapped: ignore                      # ignore | reject SCIM attributes without a rule
      disable: {strategy: ppolicy}          # ppolicy | boolean | move (see DisableRule)
      members: {ldap: member, types: [User, Group], placeholder: <DN>}   # groups only
      attributes:
        - scim: name.familyName             # a SCIM path (RFC 7644 §3.5.2 form)
          ldap: sn
          default: ["{userName}"]           # templates tried in order when the value is absent
          converter: string                 # string lowercase boolean integer generalizedTime
          write: readWrite                  # readWrite | readOnly | createOnly | ignore
          reference: [User]                 # the LDAP value is a DN of that resource type
          primary: false                    # mark this typed value primary on read

Unknown keys and bad values are errors; every error is reported at once with its YAML path
and line, so an administrator fixes a file in one pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from gateway.directory.ldapfilter import Raw, validate_raw
from gateway.errors import ConfigError, InvalidPath
from gateway.mapping.converters import REGISTRY
from gateway.mapping.model import (
    WRITE_POLICIES,
    AttributeRule,
    DisableRule,
    Mapping,
    MembersRule,
    ResourceMapping,
    Template,
)
from gateway.scim.path import parse_path
from gateway.scim.schema import GROUP_TYPE, USER_TYPE

RESOURCE_TYPES = {"User": USER_TYPE, "Group": GROUP_TYPE}


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _RuleSchema(_Strict):
    scim = fields.String(required=True)
    ldap = fields.String(required=True, validate=validate.Length(min=1))
    default = fields.List(fields.String(), load_default=list)
    converter = fields.String(load_default="string", validate=validate.OneOf(sorted(REGISTRY)))
    write = fields.String(load_default="readWrite", validate=validate.OneOf(WRITE_POLICIES))
    reference = fields.List(
        fields.String(validate=validate.OneOf(sorted(RESOURCE_TYPES))), load_default=list
    )
    primary = fields.Boolean(load_default=False)


class _DisableSchema(_Strict):
    strategy = fields.String(required=True, validate=validate.OneOf(["ppolicy", "boolean", "move"]))
    attribute = fields.String()
    disabled_value = fields.String()
    enabled_value = fields.String()
    disabled_base_dn = fields.String()


class _MembersSchema(_Strict):
    ldap = fields.String(required=True)
    types = fields.List(
        fields.String(validate=validate.OneOf(sorted(RESOURCE_TYPES))), load_default=["User"]
    )
    placeholder = fields.String(load_default=None)
    member_of = fields.String(load_default=None)


class _ResourceSchema(_Strict):
    base_dn = fields.String(required=True, validate=validate.Length(min=1))
    scope = fields.String(load_default="one", validate=validate.OneOf(["one", "sub"]))
    object_classes = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    filter = fields.String(load_default=None)
    rdn_attribute = fields.String(required=True)
    id_attribute = fields.String(load_default="entryUUID")
    unmapped = fields.String(load_default="ignore", validate=validate.OneOf(["ignore", "reject"]))
    disable = fields.Nested(_DisableSchema, load_default=None)
    members = fields.Nested(_MembersSchema, load_default=None)
    attributes = fields.List(fields.Nested(_RuleSchema), required=True)


class _FileSchema(_Strict):
    version = fields.Integer(required=True, validate=validate.Equal(1))
    User = fields.Nested(_ResourceSchema)
    Group = fields.Nested(_ResourceSchema)


def load_mapping(path: str | Path) -> Mapping:
    """Read, validate and compile a mapping file; raise ConfigError with every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"cannot read {path}: {err.strerror}"], f"mapping {path}") from err
    return load_mapping_text(text, str(path))


def load_mapping_text(text: str, source: str = "<text>") -> Mapping:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        raise ConfigError([f"{source}: not valid YAML: {err}"], f"mapping {source}") from err
    lines: dict[str, int] = {}
    data = _to_python(node, "", lines) if node is not None else None
    problems: list[str] = []

    def where(p: str) -> str:
        line = lines.get(p)
        while line is None and "." in p:
            p = p.rsplit(".", 1)[0]
            line = lines.get(p)
        return f"{source}:{line}" if line else source

    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the file must be a YAML mapping"], f"mapping {source}")
    try:
        loaded = _FileSchema().load(data)
    except ValidationError as err:
        for p, msg in _flatten(err.messages):
            problems.append(f"{where(p)}: {p}: {msg}")
        raise ConfigError(problems, f"mapping {source}") from err
    resources: dict[str, ResourceMapping] = {}
    for name in ("User", "Group"):
        if name in loaded:
            res = _compile(name, loaded[name], problems, lambda p, n=name: where(f"{n}.{p}"))
            if res is not None:
                resources[name] = res
    if not resources:
        problems.append(f"{source}: define at least one of User, Group")
    for res in resources.values():
        for rule in res.attributes:
            for ref in rule.reference:
                if ref not in resources:
                    problems.append(
                        f"{source}: {res.name} {rule.scim_text} refers to {ref}, "
                        f"which this mapping does not define"
                    )
    if problems:
        raise ConfigError(problems, f"mapping {source}")
    return Mapping(resources, source)


def _compile(name: str, spec: dict[str, Any], problems: list[str], where) -> ResourceMapping | None:
    rtype = RESOURCE_TYPES[name]
    rules: list[AttributeRule] = []
    seen: set[str] = set()
    before = len(problems)
    for i, raw in enumerate(spec["attributes"]):
        here = f"attributes.{i}"
        try:
            ppath = parse_path(raw["scim"])
            rtype.resolve(ppath.attr)
        except InvalidPath as err:
            problems.append(f"{where(here + '.scim')}: {name}.{here}.scim: {err.detail}")
            continue
        key = raw["scim"].lower()
        if key in seen:
            problems.append(f"{where(here)}: {name}.{here}: {raw['scim']} is mapped twice")
        seen.add(key)
        rules.append(
            AttributeRule(
                scim_text=raw["scim"],
                scim=ppath,
                ldap=raw["ldap"],
                converter=REGISTRY[raw["converter"]],
                defaults=tuple(Template.parse(t) for t in raw["default"]),
                write=raw["write"],
                reference=tuple(raw["reference"]),
                primary=raw["primary"],
            )
        )
    flt = None
    if spec["filter"]:
        error = validate_raw(spec["filter"])
        if error:
            problems.append(f"{where('filter')}: {name}.filter: {error}")
        flt = Raw(spec["filter"])
    rdn = spec["rdn_attribute"]
    if not any(r.ldap.lower() == rdn.lower() and r.writable for r in rules):
        problems.append(
            f"{where('rdn_attribute')}: {name}.rdn_attribute: no writable attribute "
            f"rule maps to {rdn!r}; map the naming SCIM attribute "
            f"({'userName' if name == 'User' else 'displayName'}) to it"
        )
    disable = None
    if spec["disable"]:
        d = spec["disable"]
        if d["strategy"] == "boolean" and not (d.get("attribute") and d.get("disabled_value")):
            problems.append(
                f"{where('disable')}: {name}.disable: the boolean strategy needs "
                f"'attribute' and 'disabled_value'"
            )
        if d["strategy"] == "move" and not d.get("disabled_base_dn"):
            problems.append(
                f"{where('disable')}: {name}.disable: the move strategy needs 'disabled_base_dn'"
            )
        disable = DisableRule(**d)
    members = None
    if spec["members"]:
        m = spec["members"]
        members = MembersRule(m["ldap"], tuple(m["types"]), m["placeholder"], m["member_of"])
    if len(problems) > before:
        return None
    return ResourceMapping(
        name=name,
        rtype=rtype,
        base_dn=spec["base_dn"],
        scope=spec["scope"],
        object_classes=tuple(spec["object_classes"]),
        rdn_attribute=rdn,
        id_attribute=spec["id_attribute"],
        attributes=tuple(rules),
        filter=flt,
        unmapped=spec["unmapped"],
        disable=disable,
        members=members,
    )


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
