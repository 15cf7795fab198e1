"""``provlineage.transport.SigningTransport``: sign every event, chain it, and hand it to any inner transport.

Config (``type: provlineage.transport.SigningTransport``), from ``openlineage.yml``, ``OPENLINEAGE__TRANSPORT__*``
environment variables or Airflow's ``[openlineage] transport`` JSON:

``private_key``
    Path of the PEM signing key (``provlineage keygen``).  Or ``signer``: dotted path of a callable returning a
    :class:`provlineage.signer.Signer` (a KMS or HSM key).
``passphrase_env``
    Name of the environment variable holding the key's passphrase, when the key is encrypted.
``transport``
    The inner transport's config (``http``, ``kafka``, ``console``, ``composite``,
    ``provlineage.transport.FileLogTransport``, ...), as a mapping or a JSON string.  Events are signed once,
    whatever fans out below.
``state_dir``
    Where chain state is kept (default ``$PROVLINEAGE_STATE_DIR`` or ``~/.local/state/provlineage``).
``spool_dir``
    Where events a backend could not take wait (default ``<state_dir>/spool``), one directory per inner backend and
    destination (``<name>@<digest>``, see :mod:`provlineage.transport.building`).
``strict``
    ``false`` (default): a failure to sign or deliver is logged as one line and ``emit`` returns, so lineage never
    breaks the job.  ``true``: it raises :class:`~provlineage.errors.SigningError` /
    :class:`~provlineage.errors.DeliveryError` (after spooling), and a bad config fails at construction.
``retry_interval`` (seconds, default 5), ``resend_batch`` (default 100), ``lock_timeout`` (seconds, default 30)
    Pacing of re-sends while a backend is down, and how long to wait for another process's lock.

Per event: one walk to values that are both plain JSON and ready for the canonical form
(:func:`~provlineage.transport.event_dict.canonical_event_dict`; values JSON cannot carry take the careful route:
``Serde.to_dict``'s equal, provlineage's JSON rule in :mod:`provlineage._internal.jsonsafe` with one warning naming
them, canonical preparation) -> under the stream's lock: finish what a crashed writer left, sign, reserve, store
locally, commit (:mod:`provlineage.transport.recording`) -> release -> network backends are sent from their spools.
Backends receive a :class:`~provlineage._internal.signed_event.SignedEvent`.  Delivery and spooling are described in
:mod:`provlineage.transport.delivery`; chain streams and what they are bound to in
:mod:`provlineage._internal.chain_state`.

Only run events are signed (the signature travels as a run facet); a ``DatasetEvent`` or ``JobEvent`` is
refused with a logged error.  A ``transform`` transport inside this one would change events after signing, so
put the transform outside (before) the signing transport instead.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Transport
from openlineage.client.utils import import_from_string

from provlineage._internal import canonical, strictness
from provlineage._internal.canonical import SIGNATURE_FACET, project_event
from provlineage._internal.chain_state import ChainState, default_state_dir
from provlineage._internal.jsonsafe import Conversions, to_json_safe
from provlineage._internal.signed_event import SignedEvent, to_json_line
from provlineage._internal.spool import Spool
from provlineage.errors import ConfigError, DeliveryError, ProvlineageError, SigningError
from provlineage.signer import KeySigner, Signer
from provlineage.signing import SignedLine, sign_event_line
from provlineage.transport.building import build_inner
from provlineage.transport.config import EXAMPLE, SigningConfig, announce_unrecordable
from provlineage.transport.delivery import Delivery, FlushResult, Outcome, settle
from provlineage.transport.event_dict import canonical_event_dict, event_dict
from provlineage.transport.file_log import FileLogTransport
from provlineage.transport.recording import destination_of, reconcile, record_event

log = logging.getLogger(__name__)

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class SigningTransport(Transport):
    """Signs and chains every run event, then delivers it through the inner transport with a spool per backend."""

    kind = "provlineage.transport.SigningTransport"
    config_class = SigningConfig

    def __init__(self, config: SigningConfig, *, signer: Signer | None = None) -> None:
        self.config = config
        self.strict = config.strict or strictness.from_environment()  # see provlineage._internal.strictness
        self.state_dir = Path(config.state_dir).expanduser() if config.state_dir else default_state_dir()
        self.spool_dir = Path(config.spool_dir).expanduser() if config.spool_dir else self.state_dir / "spool"
        self.deliveries: list[Delivery] = []
        self.inner: Transport | None = None
        self._signer = signer
        self._chain: ChainState | None = None
        self._outcomes = threading.local()
        self._problem: ProvlineageError | None = None
        try:
            problem = config.problem
            if problem is not None and not (config.problem_key == "private_key" and signer is not None):
                raise problem
            assert config.transport is not None
            built = build_inner(config.transport, config, self.spool_dir, self._outcomes)
            self.inner, self.deliveries = built.root, built.deliveries
            if strictness.effective(self.strict) or config.private_key:
                _ = self.signer  # a key that cannot be loaded fails now, not at the first event
        except ProvlineageError as error:
            if strictness.effective(self.strict):
                raise
            self._problem = error  # said once, loudly, at the first event it costs (see emit)

    @property
    def signer(self) -> Signer:
        """The signer, created on first use and reused (raises :class:`KeyLoadError`/`ConfigError`)."""
        if self._signer is None:
            if self.config.signer:
                factory: Callable[[], Signer] = import_from_string(self.config.signer)
                signer = factory()
                if not isinstance(signer, Signer):
                    raise ConfigError(
                        f"signer {self.config.signer} returned {type(signer).__name__}",
                        "return a provlineage.signer.Signer",
                    )
                self._signer = signer
            elif self.config.private_key:
                self._signer = KeySigner.from_file(
                    Path(self.config.private_key).expanduser(), passphrase_env=self.config.passphrase_env
                )
            else:
                raise ConfigError(
                    "SigningTransport config has no `private_key`",
                    f"set private_key to the PEM written by `provlineage keygen`, {EXAMPLE}",
                )
        return self._signer

    @property
    def file_log_path(self) -> Path | None:
        """Path of the first :class:`FileLogTransport` among the inner backends, if any."""
        for delivery in self.deliveries:
            if isinstance(delivery.leaf, FileLogTransport):
                return delivery.leaf.path
        return None

    def leaves(self) -> Iterator[Transport]:
        """The inner backends, unwrapped."""
        return (delivery.leaf for delivery in self.deliveries)

    def emit(self, event: Any) -> SignedEvent | None:
        """Sign and deliver ``event``; returns the signed event (``None`` when it could not be signed)."""
        strict = strictness.effective(self.strict)
        try:
            return self._emit(event)
        except ProvlineageError as error:
            if strict:
                raise
            if error is self._problem:
                if not announce_unrecordable(error):
                    log.warning("provlineage: lineage event not recorded (%s)", error.what)
            else:
                log.error("provlineage: lineage event not recorded: %s", error)
        except Exception as error:
            failure = SigningError(
                f"signing transport failed ({type(error).__name__}: {error})", "please report this as a provlineage bug"
            )
            if strict:
                raise failure from error
            log.error("provlineage: lineage event not recorded: %s", failure, exc_info=log.isEnabledFor(logging.DEBUG))
        return None

    def _emit(self, event: Any) -> SignedEvent:
        if self._problem is not None:
            raise self._problem
        assert self.inner is not None
        plain, prepared = _json_values(event)
        if _has_error_facet(prepared):
            from provlineage.redaction.error_facet import redact_error_facet

            for target in {id(plain): plain, id(prepared): prepared}.values():
                redact_error_facet(target)  # the provider's FAIL facet: secrets never reach the signed record
        signer = self.signer
        chain = self._chain
        if chain is None or chain.key_id != signer.key_id:
            chain = self._chain = ChainState(
                self.state_dir,
                signer.key_id,
                "-".join(self.config.destination.split())
                if self.config.destination
                else destination_of(self.deliveries),
                lock_timeout=self.config.lock_timeout,
            )
        outcomes: list[Outcome] = []
        self._outcomes.items = outcomes
        try:
            with chain.locked() as cursor:  # only local, bounded work under this lock (see transport.recording)
                reconcile(cursor, self.deliveries)
                link = cursor.next_link()
                line = sign_event_line(prepared, signer, chain=link, may_hold_nulls=False)
                signed = _signed(plain, prepared, line, link.stream, link.sequence)
                record_event(cursor, self.deliveries, link, signed, outcomes)
        finally:
            self._outcomes.items = None
        settle(outcomes, self.config.delivery_timeout)  # network backends: sent now, outside the chain lock
        undelivered = [outcome for outcome in outcomes if outcome.status != "sent"]
        if undelivered and strictness.effective(self.strict):
            first = undelivered[0]
            raise DeliveryError(
                f"event {signed.describe()} was not delivered to {first.target} ({first.detail})",
                "it is kept in the spool and re-sent later"
                if first.status == "spooled"
                else "see the dead-letter file in the spool directory",
            )
        return signed

    def flush(self) -> list[FlushResult]:
        """Re-send every spooled event of every inner backend now (what ``provlineage flush`` runs)."""
        if self.inner is None and self._problem is not None:
            raise self._problem
        return [delivery.flush() for delivery in self.deliveries]

    def orphaned_spools(self) -> list[tuple[Path, int, str | None]]:
        """Spool directories with events that no backend of this configuration sends: (directory, events, the
        destination they were spooled for).  A backend renamed or pointed elsewhere, or another configuration
        sharing the state directory, leaves them; only a configuration with that backend and destination sends them.
        """
        configured = {delivery.spool.directory for delivery in self.deliveries}
        try:
            candidates = [path for path in self.spool_dir.iterdir() if path.is_dir() and path not in configured]
        except OSError:
            return []
        spools = [Spool(path) for path in sorted(candidates)]
        return [(spool.directory, count, spool.recorded_destination()) for spool in spools if (count := spool.count())]

    def close(self, timeout: float = -1) -> bool:
        return True if self.inner is None else self.inner.close(timeout)


def _has_error_facet(event: dict[str, Any]) -> bool:
    facets = event["run"].get("facets")
    return isinstance(facets, dict) and "errorMessage" in facets


def _json_values(event: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event as plain JSON values (what backends receive) and as values prepared for signing.

    Usually one and the same dict (:func:`canonical_event_dict`: no JSON round trip); values that need provlineage's
    JSON rule or canonical number spelling take the careful route below.
    """
    try:
        ready = canonical_event_dict(event)
        if ready is not None and isinstance(ready.get("run"), dict):
            return ready, ready
        plain = event_dict(event)
    except Exception as error:
        raise SigningError(
            f"event of type {type(event).__name__} cannot be read ({error})", "emit OpenLineage RunEvents"
        ) from error
    if not isinstance(plain.get("run"), dict):
        raise SigningError("event has no run object (only run events carry a signature)", "emit OpenLineage RunEvents")
    try:
        text = to_json_line(plain)  # also the JSON-safety check: raises on NaN/Infinity and on non-JSON objects
        text.encode("utf-8")  # and on a lone surrogate (an undecodable file name), which cannot be signed
    except (TypeError, ValueError):
        conversions = Conversions()
        plain = Serde.remove_nulls_and_enums(to_json_safe(plain, conversions=conversions))
        shown = ", ".join(f"{path} ({kind})" for path, kind in list(conversions.items())[:10])
        more = f" and {len(conversions) - 10} more" if len(conversions) > 10 else ""
        log.warning("provlineage: converted values JSON cannot carry, by provlineage's JSON rule: %s%s", shown, more)
        text = to_json_line(plain)
    return plain, canonical.loads(text)


def _signed(plain: dict[str, Any], view: dict[str, Any], line: SignedLine, stream: str, sequence: int) -> SignedEvent:
    """The event backends receive: the signed view in plain Python values, with its canonical JSON line.

    ``sign_event`` turned ``view`` into exactly what is signed plus the signature facet (times as UTC instants,
    parent links trimmed); the same normalization of ``plain`` gives values any JSON encoder writes correctly
    (``view`` may hold canonical-form number wrappers that only ``canonical_bytes`` can write).
    """
    if plain is view:  # values any encoder writes correctly: the signed view itself is what backends receive
        return SignedEvent(view, json_text=line.text, digest=line.digest, stream=stream, sequence=sequence)
    delivered = project_event(plain, may_hold_nulls=False)
    facet = view["run"]["facets"][SIGNATURE_FACET]
    facets = delivered["run"].get("facets")
    delivered["run"]["facets"] = (
        {**facets, SIGNATURE_FACET: facet} if isinstance(facets, dict) else {SIGNATURE_FACET: facet}
    )
    return SignedEvent(delivered, json_text=line.text, digest=line.digest, stream=stream, sequence=sequence)
