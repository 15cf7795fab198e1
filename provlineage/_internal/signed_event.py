"""The signed event handed to inner transports: a plain ``dict`` that also reads like an OpenLineage event.

openlineage-python transports take an event object.  ``Serde.to_dict``/``to_json`` accept a ``dict``, so
``http``, ``console``, ``composite`` and ``file`` send it unchanged; transports that read attributes
(``event.run.runId``, ``event.job.name`` in Kafka's message key or Datadog's routing) get them through
:class:`AttrDict`.  ``json_text`` is the exact serialization made once when the event was signed, so the
provlineage file backend and the spool write it without serializing again.

The values are plain Python JSON values (no canonical-form number wrappers), so any encoder can write them;
their JSON text parses back to the same canonical form that was signed.
"""

from __future__ import annotations

import json
from typing import Any


def to_json_line(event: dict[str, Any]) -> str:
    """Compact JSON of a plain event (no newline inside: JSON escapes them in strings)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class AttrDict(dict):  # type: ignore[type-arg]
    """A dict whose keys also read as attributes; nested objects are wrapped on access (read-only view)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(name) from None
        if isinstance(value, dict) and not isinstance(value, AttrDict):
            return AttrDict(value)
        if isinstance(value, list):
            return [AttrDict(item) if isinstance(item, dict) else item for item in value]
        return value


class SignedEvent(AttrDict):
    """A signed OpenLineage event with its JSON text and chain position."""

    __slots__ = ("digest", "json_text", "sequence", "stream")

    def __init__(
        self,
        event: dict[str, Any],
        *,
        json_text: str | None = None,
        digest: str | None = None,
        stream: str | None = None,
        sequence: int | None = None,
    ) -> None:
        super().__init__(event)
        self.json_text: str = json_text if json_text is not None else to_json_line(event)
        self.digest = digest
        self.stream = stream
        self.sequence = sequence

    @classmethod
    def from_json(cls, text: str) -> SignedEvent:
        """Rebuild a signed event from its JSON line (as stored in a spool)."""
        event = json.loads(text)
        facet = (event.get("run") or {}).get("facets", {}).get("provlineage_signature") or {}
        return cls(
            event,
            json_text=text,
            digest=facet.get("digest"),
            stream=facet.get("stream"),
            sequence=facet.get("sequence"),
        )

    def __reduce__(self) -> Any:
        return (_rebuild, (dict(self), self.json_text, self.digest, self.stream, self.sequence))

    def describe(self) -> str:
        """``stream#sequence`` for log lines (or the run id of an unchained event)."""
        if self.stream is not None:
            return f"{self.stream}#{self.sequence}"
        run = self.get("run") or {}
        return f"run {run.get('runId', '?')}"


def _rebuild(
    event: dict[str, Any], text: str, digest: str | None, stream: str | None, sequence: int | None
) -> SignedEvent:
    return SignedEvent(event, json_text=text, digest=digest, stream=stream, sequence=sequence)
