"""The add/replace/remove rules of RFC 7644 §3.5.2, applied to one resource dict in place.

Does: add, replace or remove the value at a resolved ``target.Target``, enforcing
mutability (RFC 7643 §2.2), required attributes (RFC 7644 §3.5.2.2), value types (via
``values``) and ``primary`` uniqueness (RFC 7643 §2.4). Attribute names are matched
case-insensitively and written back in canonical case.

Adding values to, or removing listed values from, a multi-valued attribute goes through a
``ValueIndex`` kept across operations, so each costs the values it names rather than the
attribute's current size; the list is written back when another kind of operation reads
it, and by :meth:`ResourceEditor.finish`. Each attribute may hold at most ``max_values``
values (``TooMany``).

Does not: copy the resource or roll back — ``patch.apply_patch`` hands it a deep copy and
drops it on error, which is what makes a PATCH all-or-nothing.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import InvalidValue, Mutability, NoTarget, TooMany
from gateway.scim import compat
from gateway.scim.match import equality_template, identity_values, value_matches
from gateway.scim.schema import Attribute, ResourceType, Schema
from gateway.scim.target import Target, check_change
from gateway.scim.valueindex import ValueIndex, identity
from gateway.scim.values import coerce_attribute, coerce_single


class ResourceEditor:
    """Applies resolved operations to ``resource`` (a SCIM resource dict), in place."""

    def __init__(
        self, resource: dict[str, Any], rtype: ResourceType, *, max_values: int | None = None
    ) -> None:
        self.resource = resource
        self.rtype = rtype
        self.max_values = max_values
        self._indexes: dict[tuple[str, str], tuple[Target, ValueIndex]] = {}

    def finish(self) -> dict[str, Any]:
        """Write every indexed attribute back into the resource, and return the resource."""
        for key in list(self._indexes):
            self._flush(key)
        return self.resource

    # ------------------------------------------------------------------------ operations

    def add(self, t: Target, raw: Any) -> None:
        """RFC 7644 §3.5.2.1: set single values, merge complex ones, append to multi-valued."""
        self._require_writable(t)
        if t.value_filter is not None:
            self._write_filtered(t, raw, replacing=False)
        elif t.sub is not None:
            self._write_sub(t, t.sub, raw)
        elif t.attr.multi_valued:
            self._add_values(t, raw)
        else:
            self._write_single(t, raw)

    def replace(self, t: Target, raw: Any) -> None:
        """RFC 7644 §3.5.2.3: as add, except a multi-valued attribute gets exactly ``raw``."""
        if t.value_filter is not None:
            self._write_filtered(t, raw, replacing=True)
        elif t.sub is not None:
            self._write_sub(t, t.sub, raw)
        elif t.attr.multi_valued:
            new = coerce_attribute(t.attr, compat.single_value_as_list(raw), t.label)
            check_change(t.attr, t.label, self._get(t), new)
            self._put(t, new)
        else:
            self._write_single(t, raw)

    def remove(self, t: Target, raw: Any) -> None:
        """RFC 7644 §3.5.2.2, plus Entra's listed-values remove (``compat``)."""
        if t.value_filter is not None:
            self._remove_filtered(t)
            return
        if t.sub is not None:
            self._write_sub(t, t.sub, None)
            return
        listed = compat.listed_values_to_remove(raw) if t.attr.multi_valued else None
        if listed is None:
            check_change(t.attr, t.label, self._get(t), None)
            self._put(t, None)
            return
        self._require_writable(t)
        gone = {identity(t.attr, v) for v in coerce_attribute(t.attr, listed, t.label) or []}
        index = self._index(t)
        had_values = index.count > 0
        removed = [key for key in gone if index.remove(key)]
        if removed:  # check_change's rules, without comparing whole lists
            if t.attr.mutability == "immutable" and had_values:
                raise Mutability(
                    f"'{t.label}' is immutable: it can be set once, not changed or removed"
                )
            if index.count == 0 and t.attr.required:
                raise Mutability(f"'{t.label}' is required and cannot be removed")

    # -------------------------------------------------------------------------- helpers

    def _write_single(self, t: Target, raw: Any) -> None:
        """A single-valued attribute; a complex one merges the given sub-attributes."""
        if t.attr.type != "complex":
            new = coerce_attribute(t.attr, raw, t.label)
            check_change(t.attr, t.label, self._get(t), new)
            self._put(t, new)
            return
        value = compat.single_element_list_as_object(raw)
        if t.attr.sub("value") is not None:
            value = compat.reference_from_bare_id(value)
        if value is None:
            check_change(t.attr, t.label, self._get(t), None)
            self._put(t, None)
            return
        if not isinstance(value, dict):
            raise InvalidValue(f"'{t.label}' is complex: expected an object")
        self._require_writable(t)
        for key, item in value.items():
            sub = t.attr.sub(key)
            if sub is not None and sub.mutability != "readOnly":
                self._write_sub(t, sub, item)

    def _write_sub(self, t: Target, sub: Attribute, raw: Any) -> None:
        """One sub-attribute of a single-valued complex attribute (``name.givenName``)."""
        label = f"{t.attr_label}.{sub.name}"
        self._require_writable(t)
        new = coerce_attribute(sub, raw, label)
        current = self._get(t)
        obj = dict(current) if isinstance(current, dict) else {}
        check_change(sub, label, obj.get(sub.name), new)
        obj.pop(sub.name, None)
        if new is not None:
            obj[sub.name] = new
        check_change(t.attr, t.attr_label, current, obj or None)
        self._put(t, obj or None)

    def _add_values(self, t: Target, raw: Any) -> None:
        """Append values; one whose identity (``value``) is present is merged, not doubled."""
        new_values = coerce_attribute(t.attr, compat.single_value_as_list(raw), t.label)
        if new_values is None:
            return
        self._require_writable(t)
        index = self._index(t)
        written = []
        for new in new_values:
            key = identity(t.attr, new)
            slot = index.find(key)
            if slot is None:
                slot = index.append(key, new)
            else:
                index.put(slot, self._merge_same(t, index.get(slot), new))
            written.append(slot)
        primaries = [slot for slot in written if _is_primary(index.get(slot))]
        if len(primaries) > 1:
            raise InvalidValue(
                f"the operation would make {len(primaries)} values of '{t.label}'"
                " primary; at most one may be (RFC 7643 §2.4)"
            )
        index.settle_primary(written)
        self._check_count(t, index.count)

    def _write_filtered(self, t: Target, raw: Any, *, replacing: bool) -> None:
        """``attr[filter]`` or ``attr[filter].sub``; creates the value when none matches and
        the filter is a plain equality (Entra's ``emails[type eq "work"].value``, §4)."""
        assert t.value_filter is not None
        self._require_writable(t)
        values = self._values(t)
        matched = [i for i, v in enumerate(values) if value_matches(t.value_filter, v, t.attr)]
        template = equality_template(t.value_filter, t.attr)
        written: list[Any] = []
        if t.filter_sub is not None:
            sub = t.filter_sub
            if sub.mutability == "readOnly":
                raise Mutability(f"'{t.attr_label}.{sub.name}' is read-only")
            new = coerce_attribute(sub, raw, f"{t.attr_label}.{sub.name}")
            if not matched:
                if new is None:
                    return  # asked to clear a sub-attribute of a value that does not exist
                values.append(self._create(t, template, {sub.name: new}))
                written.append(values[-1])
            for index in matched:
                item = dict(values[index])
                check_change(sub, t.label, item.get(sub.name), new)
                item.pop(sub.name, None)
                if new is not None:
                    item[sub.name] = new
                values[index] = item
                written.append(item)
        else:
            new = coerce_single(t.attr, compat.single_element_list_as_object(raw), t.label)
            if new is None:  # null: replace unassigns the matching values, add adds nothing
                if not replacing:
                    return
                values = [v for i, v in enumerate(values) if i not in matched]
                matched = []
            elif not matched:
                if replacing:
                    raise NoTarget(f"no value of '{t.label}' matches (RFC 7644 §3.5.2.3)")
                values.append(self._create(t, template, new))
                written.append(values[-1])
            for index in matched:
                assert new is not None
                if replacing:
                    item = {**(template or {}), **new}
                    for sub in t.attr.sub_attributes:
                        if sub.mutability == "immutable":
                            label = f"{t.attr_label}.{sub.name}"
                            check_change(
                                sub, label, values[index].get(sub.name), item.get(sub.name)
                            )
                else:
                    item = self._merge(t, values[index], new)
                values[index] = item
                written.append(item)
        values = [v for v in values if v not in ({}, None)]
        self._settle_primary(t, values, written)
        self._put(t, values)

    def _remove_filtered(self, t: Target) -> None:
        """Remove matching values, or one sub-attribute of them (RFC 7644 §3.5.2.2)."""
        assert t.value_filter is not None
        self._require_writable(t)
        values = self._values(t)
        matched = [i for i, v in enumerate(values) if value_matches(t.value_filter, v, t.attr)]
        if not matched:
            if identity_values(t.value_filter, t.attr) is not None:
                return  # removing a value that is not there: already in the wanted state
            raise NoTarget(f"no value of '{t.label}' matches the filter")
        self._require_writable(t)
        if t.filter_sub is None:
            values = [v for i, v in enumerate(values) if i not in matched]
        else:
            sub = t.filter_sub
            for index in matched:
                item = dict(values[index])
                check_change(sub, t.label, item.pop(sub.name, None), None)
                values[index] = item
            values = [v for v in values if v]
        check_change(t.attr, t.attr_label, self._get(t), values or None)
        self._put(t, values)

    def _create(self, t: Target, template: dict[str, Any] | None, given: dict[str, Any]) -> Any:
        if template is None:
            raise NoTarget(
                f"no value of '{t.label}' matches, and a new one can only be created from a"
                ' filter of the form sub eq "x" [and ...]'
            )
        return coerce_single(t.attr, {**template, **given}, t.label)

    def _merge(self, t: Target, old: Any, new: Any) -> Any:
        """Write ``new``'s sub-attributes into a value selected by a filter."""
        if not (isinstance(old, dict) and isinstance(new, dict)):
            return old
        for key, item in new.items():
            sub = t.attr.sub(key)
            if sub is not None:
                check_change(sub, f"{t.attr_label}.{sub.name}", old.get(sub.name), item)
        return {**old, **new}

    def _merge_same(self, t: Target, old: Any, new: Any) -> Any:
        """Merge a value added again (same identity): what is stored for ``value`` and for
        immutable sub-attributes stays, so re-adding a member is never an error."""
        if not (isinstance(old, dict) and isinstance(new, dict)):
            return old
        kept = {
            key: item
            for key, item in old.items()
            if key == "value" or ((sub := t.attr.sub(key)) and sub.mutability == "immutable")
        }
        return {**old, **new, **kept}

    def _settle_primary(self, t: Target, values: list[Any], written: list[Any]) -> None:
        """RFC 7644 §3.5.2: setting primary on one value sets it false on the others."""
        if t.attr.sub("primary") is None:
            return
        primaries = [v for v in written if isinstance(v, dict) and v.get("primary") is True]
        if len(primaries) > 1:
            raise InvalidValue(
                f"the operation would make {len(primaries)} values of '{t.label}'"
                " primary; at most one may be (RFC 7643 §2.4)"
            )
        if primaries:
            for index, value in enumerate(values):
                if value is not primaries[0] and isinstance(value, dict) and value.get("primary"):
                    values[index] = {**value, "primary": False}

    def _require_writable(self, t: Target) -> None:
        if t.attr.mutability == "readOnly":
            raise Mutability(f"'{t.attr_label}' is read-only")

    # -------------------------------------------------------------------------- storage

    def _container(self, schema: Schema, *, create: bool) -> dict[str, Any] | None:
        key = self.rtype.canonical_key(schema)
        if key is None:
            return self.resource
        found = _find_key(self.resource, key)
        if found is None or not isinstance(self.resource[found], dict):
            if not create:
                return None
            if found is not None:
                del self.resource[found]
            self.resource[key] = {}
            self._declare_schema(key)
        elif found != key:
            self.resource[key] = self.resource.pop(found)
        return self.resource[key]

    def _declare_schema(self, urn: str) -> None:
        """Keep ``schemas`` listing each extension whose attributes appear (RFC 7643 §3)."""
        key = _find_key(self.resource, "schemas") or "schemas"
        schemas = self.resource.get(key)
        if not isinstance(schemas, list):
            schemas = self.resource[key] = [self.rtype.schema.id]
        if all(not (isinstance(s, str) and s.casefold() == urn.casefold()) for s in schemas):
            schemas.append(urn)

    def _index(self, t: Target) -> ValueIndex:
        """The attribute's ValueIndex, built from its current values on first use."""
        key = (t.schema.id, t.attr.name)
        found = self._indexes.get(key)
        if found is None:
            found = self._indexes[key] = (t, ValueIndex(t.attr, self._values(t)))
        return found[1]

    def _flush(self, key: tuple[str, str]) -> None:
        """Write an indexed attribute back and forget its index (other paths edit the list)."""
        found = self._indexes.pop(key, None)
        if found is not None:
            t, index = found
            self._put(t, index.values())

    def _check_count(self, t: Target, count: int) -> None:
        if self.max_values is not None and count > self.max_values:
            raise TooMany(
                f"'{t.attr_label}' would hold {count} values; the gateway accepts at most"
                f" {self.max_values} per attribute"
            )

    def _get(self, t: Target) -> Any:
        self._flush((t.schema.id, t.attr.name))
        container = self._container(t.schema, create=False)
        if container is None:
            return None
        key = _find_key(container, t.attr.name)
        return None if key is None else _canonical(t.attr, container[key])

    def _values(self, t: Target) -> list[Any]:
        """The current values of a multi-valued target, as a fresh list."""
        current = self._get(t)
        if current is None:
            return []
        return list(current) if isinstance(current, list) else [current]

    def _put(self, t: Target, value: Any) -> None:
        self._indexes.pop((t.schema.id, t.attr.name), None)
        if isinstance(value, list):
            self._check_count(t, len(value))
        unassigned = value is None or value == [] or value == {}
        container = self._container(t.schema, create=not unassigned)
        if container is None:
            return
        for key in [k for k in container if k.casefold() == t.attr.name.casefold()]:
            if key != t.attr.name or unassigned:
                del container[key]
        if not unassigned:
            container[t.attr.name] = value
        elif container is not self.resource and not container:
            del self.resource[self.rtype.canonical_key(t.schema) or ""]


def _find_key(obj: dict[str, Any], name: str) -> str | None:
    if name in obj:
        return name
    folded = name.casefold()
    return next((k for k in obj if isinstance(k, str) and k.casefold() == folded), None)


def _canonical(attr: Attribute, value: Any) -> Any:
    """Sub-attribute keys of a stored value in canonical case (RFC 7643 §2.1)."""
    if attr.type != "complex":
        return value
    if isinstance(value, list):
        return [_canonical_object(attr, v) for v in value]
    return _canonical_object(attr, value)


def _canonical_object(attr: Attribute, value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        sub = attr.sub(key)
        out[sub.name if sub is not None else key] = item
    return out


def _is_primary(value: Any) -> bool:
    return isinstance(value, dict) and value.get("primary") is True
