"""Salted commitments: values that can be taken out of a signed event later while the rest still verifies.

A signed, chained record is permanent, yet a secret that slipped past redaction, or personal data under a GDPR
erasure request, must be removable.  So the signature does not cover such values directly.  At signing time each
*withholdable* leaf (see :data:`WITHHOLDABLE_ROOTS`) gets a fresh 16-byte salt, kept in the signature facet's
``salts`` member under the leaf's JSON Pointer, and the signed view holds, in the leaf's place::

    {"provlineage:withheld": "sha256:" + hex(SHA-256(salt || 0x00 || pointer || 0x00 || canonical(value)))}

A verifier recomputes that marker from the stored value and its salt, so an untouched event verifies as before.
Withholding a value replaces it in the stored event by the very same marker and deletes its salt: the signature
still verifies (the signed view is unchanged), nothing about the value can be learned from the marker (the salt is
gone, so a small value space cannot be enumerated), and the verifier counts the marker as a withheld value.
The pointer inside the hash pins each marker to its place, so markers cannot be moved between fields.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

from provlineage._internal.canonical import canonical_bytes

SALTS = "salts"
WITHHELD = "provlineage:withheld"
SALT_BYTES = 16

# Where values provlineage records may carry a secret or personal data: user hyperparameters, captured environment
# variables and git remotes, error messages and stack traces, and the job's source-code URL.
WITHHOLDABLE_ROOTS: tuple[tuple[str, ...], ...] = (
    ("run", "facets", "provlineage_hyperparameters", "parameters"),
    ("run", "facets", "provlineage_environment", "environmentVariables"),
    ("run", "facets", "provlineage_environment", "git"),
    ("run", "facets", "errorMessage", "message"),
    ("run", "facets", "errorMessage", "stackTrace"),
    ("job", "facets", "sourceCodeLocation", "url"),
    ("job", "facets", "sourceCodeLocation", "repoUrl"),
)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def pointer_of(path: tuple[str | int, ...]) -> str:
    """RFC 6901 JSON Pointer of a path of keys and list indices."""
    return "".join("/" + _escape(str(part)) for part in path)


def parse_pointer(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        raise ValueError(f"{pointer!r} is not a JSON Pointer (it must start with '/')")
    return [_unescape(token) for token in pointer[1:].split("/")]


def is_marker(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(WITHHELD), str)


def _leaves(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, dict):
        if is_marker(value):
            return
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    elif value is not None:
        yield path, value


def _at(document: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def withholdable_leaves(event: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(pointer, value) of every withholdable leaf of ``event``, in document order."""
    for root in WITHHOLDABLE_ROOTS:
        value = _at(event, root)
        if value is not None:
            for path, leaf in _leaves(value, root):
                yield pointer_of(path), leaf


def _salt_bytes(salt: str) -> bytes:
    return base64.urlsafe_b64decode(salt + "=" * (-len(salt) % 4))


def marker(pointer: str, salt: str, value: Any) -> dict[str, str]:
    """The marker that stands for ``value`` at ``pointer`` in the signed view (and in the event once withheld)."""
    return {WITHHELD: marker_digest(pointer, _salt_bytes(salt), canonical_bytes(value))}


def marker_digest(pointer: str, salt: bytes, value_text: bytes) -> str:
    """A marker's digest from the raw salt and the value's canonical text (the signer has both at hand)."""
    return "sha256:" + hashlib.sha256(salt + b"\x00" + pointer.encode("utf-8") + b"\x00" + value_text).hexdigest()


def _replace(document: Any, tokens: list[str], make: Any) -> Any:
    """A copy of ``document`` with the value at ``tokens`` replaced by ``make(value)``; unchanged if absent."""
    if not tokens:
        return make(document)
    head, rest = tokens[0], tokens[1:]
    if isinstance(document, dict) and head in document:
        copy = dict(document)
        copy[head] = _replace(document[head], rest, make)
        return copy
    if isinstance(document, list) and head.isdigit() and int(head) < len(document):
        copy_list = list(document)
        copy_list[int(head)] = _replace(document[int(head)], rest, make)
        return copy_list
    return document


def committed_view(view: dict[str, Any], salts: Any) -> dict[str, Any]:
    """``view`` with each salted leaf replaced by its marker (a new document; ``view`` is not modified)."""
    if not isinstance(salts, dict):
        return view
    for pointer, salt in salts.items():
        if not isinstance(pointer, str) or not isinstance(salt, str) or not pointer.startswith("/"):
            continue  # a damaged salt only makes the signature mismatch
        try:
            tokens = parse_pointer(pointer)
            view = _replace(
                view, tokens, lambda value, p=pointer, s=salt: value if is_marker(value) else marker(p, s, value)
            )
        except (ValueError, TypeError):
            continue
    return view


def count_withheld(event: Any) -> list[str]:
    """Pointers of the values withheld from ``event`` (markers found under the withholdable roots)."""
    found: list[str] = []
    for root in WITHHOLDABLE_ROOTS:
        found.extend(_markers(_at(event, root), root))
    return found


def _markers(value: Any, path: tuple[str | int, ...]) -> Iterator[str]:
    if is_marker(value):
        yield pointer_of(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _markers(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _markers(item, (*path, index))


def withhold(event: dict[str, Any], facet: dict[str, Any], pointer: str) -> bool:
    """Replace the value at ``pointer`` by its marker and forget its salt; ``False`` if it holds no salted value."""
    salts = facet.get(SALTS)
    if not isinstance(salts, dict) or pointer not in salts:
        return False
    salt = salts[pointer]
    tokens = parse_pointer(pointer)
    updated = _replace(event, tokens, lambda value: value if is_marker(value) else marker(pointer, salt, value))
    event.clear()
    event.update(updated)
    del salts[pointer]
    return True
