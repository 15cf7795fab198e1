"""The quick path for events with salted (withholdable) values gives the full check's verdict on every variation.

The quick path rebuilds the signed view from the line's text (see ``provlineage.verification.salted``); keeping the
events (``keep_events=True``) forces the full check, which parses and commits the whole event.  Both must agree on
honest lines, withheld values, tampered values, tampered salts and salts in odd places.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provlineage._internal import commitments
from provlineage._internal.canonical import prepare
from provlineage.keys import Keyring, generate_private_key
from provlineage.signature_check import Status, inspect_signed_line
from provlineage.signer import KeySigner
from provlineage.signing import ChainLink, sign_event_line
from provlineage.verification import verify_files
from provlineage.verification.salted import committed_line_view

SIGNER = KeySigner(generate_private_key("ed25519"))
KEYRING = Keyring([SIGNER._key.public_key()])
PARAMETERS = "/run/facets/provlineage_hyperparameters/parameters"


def salted_lines(count: int = 3) -> list[str]:
    lines, previous = [], None
    for sequence in range(1, count + 1):
        event = {
            "eventType": "COMPLETE",
            "eventTime": "2026-11-30T10:00:00Z",
            "producer": "https://example.com/producer",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {
                "runId": f"01900000-0000-7000-8000-{sequence:012d}",
                "facets": {
                    "provlineage_hyperparameters": {"parameters": {"lr": 0.001, "db": "secret", "layers": [64, 1e-7]}},
                    "provlineage_environment": {"git": {"commit": "abc", "remote": "https://x/y"}, "hostname": "h"},
                    "other": {"parameters": {"lr": 0.001}},
                },
            },
            "job": {"namespace": "ml", "name": "train", "facets": {"sourceCodeLocation": {"url": "https://x/y"}}},
        }
        signed = sign_event_line(prepare(event), SIGNER, chain=ChainLink("host/s", sequence, previous))
        previous = signed.digest
        lines.append(signed.text)
    return lines


def withheld(line: str, pointer: str) -> str:
    event = json.loads(line)
    facet = event["run"]["facets"]["provlineage_signature"]
    assert commitments.withhold(event, facet, pointer)
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def edit(line: str, old: str, new: str) -> str:
    assert old in line, old
    return line.replace(old, new, 1)


def salts_edit(line: str, change: Any) -> str:
    event = json.loads(line)
    change(event["run"]["facets"]["provlineage_signature"])
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


VARIANTS = {
    "honest": lambda line: line,
    "one withheld": lambda line: withheld(line, f"{PARAMETERS}/db"),
    "list item withheld": lambda line: withheld(line, f"{PARAMETERS}/layers/1"),
    "all withheld": lambda line: withheld(
        withheld(withheld(line, f"{PARAMETERS}/db"), f"{PARAMETERS}/lr"), f"{PARAMETERS}/layers/0"
    ),
    "value changed": lambda line: edit(line, '"db":"secret"', '"db":"public"'),
    "value respelled": lambda line: edit(line, '"layers":[64,1e-7]', '"layers":[64.0,1.0E-7]'),
    "salt changed": lambda line: salts_edit(
        line, lambda f: f["salts"].update({f"{PARAMETERS}/db": "AAAAAAAAAAAAAAAAAAAAAA"})
    ),
    "salt removed": lambda line: salts_edit(line, lambda f: f["salts"].pop(f"{PARAMETERS}/db")),
    "salt outside": lambda line: salts_edit(
        line, lambda f: f["salts"].update({"/eventType": "AAAAAAAAAAAAAAAAAAAAAA"})
    ),
    "salt on the root": lambda line: salts_edit(
        line, lambda f: f["salts"].update({PARAMETERS: "AAAAAAAAAAAAAAAAAAAAAA"})
    ),
    "salts not an object": lambda line: salts_edit(line, lambda f: f.update(salts=[1])),
    "salt for a missing leaf": lambda line: salts_edit(
        line, lambda f: f["salts"].update({f"{PARAMETERS}/nope": "AAAA"})
    ),
    "decoy subtree": lambda line: edit(
        line,
        '"other":{"parameters":{"lr":0.001}}',
        '"other":{"parameters":{"db":"secret","layers":[64,1e-7],"lr":0.001}}',
    ),
    "marker moved": lambda line: edit(withheld(line, f"{PARAMETERS}/db"), '"hostname":"h"', '"hostname":"h2"'),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_quick_and_full_checks_agree(tmp_path: Path, variant: str) -> None:
    lines = salted_lines()
    lines[1] = VARIANTS[variant](lines[1])
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join(lines) + "\n")
    quick = verify_files([log], KEYRING)
    full = verify_files([log], KEYRING, keep_events=True)
    assert [(r.status, r.reason) for r in quick.records] == [(r.status, r.reason) for r in full.records]
    assert quick.ok == full.ok


def test_honest_and_withheld_lines_take_the_quick_path() -> None:
    line = salted_lines(1)[0]
    for text in (line, withheld(line, f"{PARAMETERS}/db")):
        pending = inspect_signed_line(text, KEYRING, commit=committed_line_view)
        assert pending is not None
        result = pending.by_signature()
        assert result.status.chained, result.reason
    assert (
        inspect_signed_line(withheld(line, f"{PARAMETERS}/db"), KEYRING, commit=committed_line_view)
        .by_signature()
        .status
        is Status.WITHHELD
    )
