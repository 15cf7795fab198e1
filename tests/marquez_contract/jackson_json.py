"""JSON as Jackson reads it: ``read_json`` and ``JacksonError``."""

from __future__ import annotations

import json
from typing import Any

_MAX_NUMBER_LENGTH = 1000  # Jackson 2.15 StreamReadConstraints


class JacksonError(Exception):
    """Jackson could not read or bind the JSON: Marquez answers 500 with ``{"code":400,...}``."""


class _Int(int):
    """A JSON integer that remembers its literal text (Jackson coerces numbers to strings verbatim)."""

    text: str


class _Float(float):
    """A JSON decimal that remembers its literal text."""

    text: str


def _parse_int(text: str) -> _Int:
    if len(text) > _MAX_NUMBER_LENGTH:
        raise JacksonError(f"Number value length ({len(text)}) exceeds the maximum allowed")
    value = _Int(int(text))
    value.text = text
    return value


def _parse_float(text: str) -> _Float:
    if len(text) > _MAX_NUMBER_LENGTH:
        raise JacksonError(f"Number value length ({len(text)}) exceeds the maximum allowed")
    value = _Float(float(text))
    value.text = text
    return value


def _reject_constant(name: str) -> Any:
    raise JacksonError(f"Non-standard token '{name}': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow")


_TOKEN_TYPES = {"{": "START_OBJECT", "[": "START_ARRAY", '"': "VALUE_STRING"}
_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_float=_parse_float, parse_constant=_reject_constant)


def read_json(body: bytes) -> Any:
    """Parse ``body`` as one JSON value the way Jackson does; content after it is an error (observed)."""
    try:
        text = body.decode(json.detect_encoding(body))
    except (UnicodeDecodeError, LookupError) as error:
        raise JacksonError(f"Invalid UTF-8 middle byte: {error}") from error
    text = text.lstrip("\ufeff \t\r\n")
    if not text:
        return None
    try:
        value, end = _DECODER.raw_decode(text)
    except json.JSONDecodeError as error:
        raise JacksonError(
            f"Unexpected character: {error.msg} at [Source: REDACTED; line: {error.lineno}, column: {error.colno}]"
        ) from error
    except (RecursionError, ValueError) as error:
        raise JacksonError(f"Document nesting or number too large: {error}") from error
    trailing = text[end:].lstrip(" \t\r\n")
    if trailing:
        token = _TOKEN_TYPES.get(trailing[0], "VALUE")
        raise JacksonError(
            f"Trailing token (of type {token}) found after value (bound as `marquez.service.models.BaseEvent`): "
            "not allowed as per `DeserializationFeature.FAIL_ON_TRAILING_TOKENS`"
        )
    return value
