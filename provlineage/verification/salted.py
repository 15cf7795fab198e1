"""The quick path for events with withholdable values: rebuild the signed view from the stored line's text.

An event with salted values (see :mod:`provlineage._internal.commitments`) is signed over a view in which each
withholdable leaf is replaced by its salted marker, so the stored line is not the signed text.  Parsing the whole
event, committing it and serializing it again costs ~20 times the quick path.  Instead, only the withholdable
subtrees are touched: msgspec hands back each one's exact text (``Raw``), which must occur exactly once in the
line; it is parsed, committed and written canonically, and swapped in.  If the signature then verifies, the stored
line is the signed view with those subtrees put back, which is what the full check establishes.  Anything unusual
(a salt outside the subtrees, a subtree whose text occurs twice, a member of an unexpected type) returns ``None``
and the line takes the full path.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from provlineage._internal.canonical import canonical_bytes, loads
from provlineage._internal.commitments import (
    WITHHELD,
    WITHHOLDABLE_ROOTS,
    count_withheld,
    is_marker,
    marker,
    parse_pointer,
    pointer_of,
)


def _struct_for(tree: dict[str, Any], name: str) -> Any:
    """A msgspec Struct type that keeps the leaves of ``tree`` as ``Raw`` text and skips everything else."""
    fields = []
    for key, child in tree.items():
        kind = msgspec.Raw if child is None else _struct_for(child, f"{name}_{key}")
        fields.append((key, kind | None if child is not None else kind, None))  # type: ignore[operator]
    return msgspec.defstruct(name, fields)


def _roots_tree() -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for root in WITHHOLDABLE_ROOTS:
        node = tree
        for key in root[:-1]:
            node = node.setdefault(key, {})
        node[root[-1]] = None
    return tree


_DECODER = msgspec.json.Decoder(_struct_for(_roots_tree(), "_Roots"))
_ROOT_POINTERS = tuple(pointer_of(root) for root in WITHHOLDABLE_ROOTS)
_WITHHELD_TEXT = json.dumps(WITHHELD)


def _raw_at(decoded: Any, root: tuple[str, ...]) -> bytes | None:
    for key in root:
        if decoded is None:
            return None
        decoded = getattr(decoded, key)
    return bytes(decoded) if decoded is not None else None


def _nest(root: tuple[str, ...], value: Any) -> dict[str, Any]:
    for key in reversed(root):
        value = {key: value}
    return value


def _committed(value: Any, root: tuple[str, ...], salts: dict[Any, Any]) -> Any:
    """``value`` (a fresh parse of the subtree at ``root``) with its salted leaves committed, as
    :func:`~provlineage._internal.commitments.committed_view` commits them in a whole event."""
    prefix = pointer_of(root)
    holder = {"": value}
    for pointer, salt in salts.items():
        if (
            not isinstance(pointer, str)
            or not isinstance(salt, str)
            or not (pointer == prefix or pointer.startswith(prefix + "/"))
        ):
            continue
        tokens = ["", *parse_pointer(pointer[len(prefix) :])] if pointer != prefix else [""]
        parent: Any = holder
        for token in tokens[:-1]:
            if isinstance(parent, dict) and token in parent:
                parent = parent[token]
            elif isinstance(parent, list) and token.isdigit() and int(token) < len(parent):
                parent = parent[int(token)]
            else:
                parent = None
                break
        last = tokens[-1]
        if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
            last = int(last)  # type: ignore[assignment]
        elif not (isinstance(parent, dict) and last in parent):
            continue
        leaf = parent[last]
        if not is_marker(leaf):
            try:
                parent[last] = marker(pointer, salt, leaf)
            except (ValueError, TypeError):
                continue  # a damaged salt only makes the signature mismatch, as in the full check
    return holder[""]


def committed_line_view(line: str, view_text: str, salts: Any) -> tuple[str, list[str]] | None:
    """``(signed view text, withheld pointers)`` of a stored line, or ``None`` when it needs the full path.

    ``view_text`` is ``line`` without its signature member; ``salts`` the facet's ``salts`` member.
    """
    if salts is not None and not isinstance(salts, dict):
        return None
    pointers = list(salts or {})
    if any(not any(p == r or p.startswith(r + "/") for r in _ROOT_POINTERS) for p in pointers if isinstance(p, str)):
        return None  # a salt outside the withholdable subtrees: the full path commits it
    try:
        decoded = _DECODER.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeError):
        return None
    withheld: list[str] = []
    for root in WITHHOLDABLE_ROOTS:
        raw = _raw_at(decoded, root)
        if raw is None or raw == b"null":
            continue
        text = raw.decode("utf-8")
        if view_text.count(text) != 1:
            return None
        try:
            value = loads(text)
            if _WITHHELD_TEXT in text:  # before committing: markers already stored (none in most events)
                withheld.extend(count_withheld(_nest(root, value)))
            replacement = canonical_bytes(_committed(value, root, salts or {})).decode("utf-8")
        except (ValueError, TypeError, RecursionError):
            return None
        view_text = view_text.replace(text, replacement, 1)
    return view_text, withheld
