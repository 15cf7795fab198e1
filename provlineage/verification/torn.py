"""Tell a record cut off mid-write (torn) from one that was never JSON (malformed).

A writer that crashes, or a disk that fills, leaves the start of a record without its end (and without the newline
that ends every record).  Such a line is a *proper prefix* of a JSON object: every character so far fits the
grammar, it just stops.  :func:`is_json_object_prefix` checks exactly that with a small pushdown scan, so a cut
anywhere (inside a string, an escape, a number, a literal, between tokens) is told apart from text that no
completion could make JSON.  Only lines that failed to parse are scanned; strings are skipped by a regular expression, so even a torn
line of several megabytes takes milliseconds.
"""

from __future__ import annotations

import re

_WHITESPACE = " \t\n\r"
_LITERALS = ("true", "false", "null")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?", re.ASCII)
_NUMBER_PREFIX = re.compile(r"-?(?:(?:0|[1-9]\d*)(?:\.|(?:\.\d+)?(?:[eE][+-]?\d*)?))?", re.ASCII)
_NUMBER_CHARS = frozenset("0123456789+-.eE")
_HEX = frozenset("0123456789abcdefABCDEF")
_STRING_SPECIAL = re.compile(r'["\\\x00-\x1f]')


def _string_end(text: str, start: int) -> int | None:
    """Index after the closing quote of the string at ``start``; ``len(text)`` if cut; ``None`` if invalid."""
    index, length = start + 1, len(text)
    while index < length:
        special = _STRING_SPECIAL.search(text, index)  # jump over plain characters (a torn line may be megabytes)
        if special is None:
            return length
        index = special.start()
        char = text[index]
        if char == '"':
            return index + 1
        if char == "\\":
            escape = text[index + 1 : index + 2]
            if escape == "u":
                if not set(text[index + 2 : index + 6]) <= _HEX:
                    return None
                index += 6
            elif escape == "" or escape in '"\\/bfnrt':
                index += 2
            else:
                return None
        elif ord(char) < 0x20:
            return None
        else:
            index += 1
    return length


def _number_end(text: str, start: int) -> int | None:
    end = start
    while end < len(text) and text[end] in _NUMBER_CHARS:
        end += 1
    token = text[start:end]
    grammar = _NUMBER_PREFIX if end == len(text) else _NUMBER
    return end if grammar.fullmatch(token) else None


def _value_end(text: str, index: int) -> int | None:
    """End of the scalar at ``index`` (string, number or literal, possibly cut at the end of ``text``)."""
    char = text[index]
    if char == '"':
        return _string_end(text, index)
    if char == "-" or char.isdigit():
        return _number_end(text, index)
    rest = text[index : index + 5]
    for word in _LITERALS:
        if rest.startswith(word):
            return index + len(word)
        if len(text) - index < len(word) and word.startswith(text[index:]):
            return len(text)
    return None


def is_json_object_prefix(text: str) -> bool:
    """Whether ``text`` is a proper prefix of a JSON object: it starts one and stops before that object ends."""
    stack: list[str] = []
    expect = "start"  # start | first-key | key | colon | value | first-value | comma
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char in _WHITESPACE:
            index += 1
            continue
        if expect == "start":
            if char != "{":
                return False
            stack.append("}")
            expect, index = "first-key", index + 1
        elif expect in ("first-key", "key"):
            if char == "}" and expect == "first-key":
                stack.pop()
                if not stack:
                    return False  # a complete object: not torn
                expect, index = "comma", index + 1
            elif char == '"':
                end = _string_end(text, index)
                if end is None:
                    return False
                expect, index = "colon", end
            else:
                return False
        elif expect == "colon":
            if char != ":":
                return False
            expect, index = "value", index + 1
        elif expect in ("value", "first-value"):
            if char == "]" and expect == "first-value":
                stack.pop()
                expect, index = "comma", index + 1
            elif char == "{":
                stack.append("}")
                expect, index = "first-key", index + 1
            elif char == "[":
                stack.append("]")
                expect, index = "first-value", index + 1
            else:
                end = _value_end(text, index)
                if end is None:
                    return False
                expect, index = "comma", end
        elif char == ",":
            expect, index = ("key" if stack[-1] == "}" else "value"), index + 1
        elif char == stack[-1]:
            stack.pop()
            if not stack:
                return False  # a complete object: not torn
            index += 1
        else:
            return False
    return bool(stack)
