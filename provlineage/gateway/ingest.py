"""Decide one request body from an authenticated producer: 201, 200 (duplicate) or a refusal kept in quarantine.

The signature is checked by :func:`provlineage.signature_check.check_event`, the verifier behind ``provlineage verify``;
the chain by :mod:`.chain` against the store.  Every refusal is written to the quarantine before it is answered.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from provlineage._internal.canonical import canonical_bytes, loads
from provlineage._internal.signed_event import to_json_line
from provlineage.errors import ProvlineageError
from provlineage.gateway.auth import namespace_allowed
from provlineage.gateway.chain import judge
from provlineage.gateway.config import GatewayConfig, Producer
from provlineage.gateway.metrics import Metrics
from provlineage.gateway.store import Incoming, Store
from provlineage.keys import Keyring
from provlineage.signature_check import Status, check_event

__all__ = ["Answer", "Ingest"]

log = logging.getLogger("provlineage.gateway")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class Ingest:
    def __init__(self, config: GatewayConfig, store: Store, keyring: Keyring, metrics: Metrics) -> None:
        self.config, self.store, self.keyring, self.metrics = config, store, keyring, metrics

    def refuse(
        self, status: int, reason: str, detail: str, body: bytes | str, producer: str | None, **where: Any
    ) -> Answer:
        """Quarantine a refused request, count it, log it, and build the answer."""
        text = body if isinstance(body, str) else body.decode("utf-8", "backslashreplace")
        entry = self.store.quarantine(
            producer=producer, reason=reason, status=status, detail=detail, body=text, **where
        )
        self.metrics.rejected.labels(reason).inc()
        log.warning(
            "refused: %s", detail, extra={"event": "rejected", "reason": reason, "status": status,
                                          "producer": producer, "quarantine_id": entry, **where},
        )  # fmt: skip
        return Answer(status, {"error": reason, "detail": detail, "quarantineId": entry})

    def handle(self, producer: Producer, raw: bytes) -> Answer:
        name = producer.name
        try:
            text = raw.decode("utf-8")
            value = loads(text)
        except UnicodeDecodeError:
            return self.refuse(400, "malformed-json", "body is not UTF-8 text", raw, name)
        except json.JSONDecodeError as error:
            detail = f"body is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
            return self.refuse(400, "malformed-json", detail, raw, name)
        except (ValueError, ProvlineageError) as error:
            return self.refuse(400, "malformed-json", f"body is not acceptable JSON ({error})", raw, name)
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("run"), dict)
            or not isinstance(value.get("job"), dict)
        ):
            detail = "not an OpenLineage run event: a JSON object with `run` and `job` objects is expected"
            return self.refuse(422, "not-an-event", detail, text, name)
        namespace = value["job"].get("namespace")
        if not isinstance(namespace, str) or not namespace_allowed(producer, namespace):
            detail = f"producer {name} may not write job namespace {namespace!r}"
            return self.refuse(403, "namespace-not-allowed", detail, text, name)
        check = check_event(value, self.keyring)
        where = {"stream": check.stream, "sequence": check.sequence}
        if check.status is Status.UNSIGNED:
            if not self.config.allow_unsigned:
                return self.refuse(
                    422, "unsigned", check.reason + " (this gateway refuses unsigned events)", text, name
                )
            return self._admit(Incoming(name, _line(value, text)))
        if check.key_id is not None and check.key_id not in producer.key_ids:
            reason = "unknown-key" if check.status is Status.UNKNOWN_KEY else "key-not-allowed"
            detail = f"producer {name} may not sign with key {check.key_id}"
            return self.refuse(403, reason, detail, text, name, **where)
        if check.status is Status.MALFORMED:
            return self.refuse(422, "malformed-signature", check.reason, text, name, **where)
        if check.status is not Status.VALID:
            return self.refuse(422, "bad-signature", check.reason, text, name, **where)
        incoming = Incoming(
            name, _line(value, text), check.stream, check.sequence, check.digest, check.previous_digest, check.key_id
        )
        return self._admit(incoming)

    def _admit(self, incoming: Incoming) -> Answer:
        verdict = self.store.admit(incoming, judge)
        where = {"stream": incoming.stream, "sequence": incoming.sequence}
        if verdict.outcome == "rejected":
            return self.refuse(409, verdict.reason, verdict.detail, incoming.body, incoming.producer, **where)
        if verdict.outcome == "duplicate":
            self.metrics.duplicates.labels(incoming.producer).inc()
            log.info("duplicate", extra={"event": "duplicate", "producer": incoming.producer, **where})
            return Answer(200, {"status": "duplicate", **where, "digest": incoming.digest})
        self.metrics.accepted.labels(incoming.producer).inc()
        log.info("accepted", extra={"event": "accepted", "producer": incoming.producer, **where})
        body = {"status": "accepted", **where, "digest": incoming.digest}
        if verdict.reason:  # gap-opened / gap-filled: an event arrived ahead of, or after, its neighbours
            level = logging.WARNING if verdict.reason == "gap-opened" else logging.INFO
            log.log(level, verdict.detail, extra={"event": verdict.reason, "producer": incoming.producer, **where})
            body["chain"] = verdict.detail
        return Answer(201, body)


def _line(value: dict[str, Any], text: str) -> str:
    """What is forwarded: the canonical line provlineage's file log stores (verifiable without re-serializing)."""
    try:
        return canonical_bytes(value).decode("utf-8")
    except (ProvlineageError, ValueError):
        return text if "\n" not in text else to_json_line(json.loads(text))
