"""The gateway's state store, SQLite and real PostgreSQL, through the same contract; and SQLite's group commit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from provlineage.gateway.chain import judge
from provlineage.gateway.store import Incoming, Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'state.db'}", serving=True)
    else:
        opened = open_store(request.getfixturevalue("postgres_url"), serving=True)
    yield opened
    opened.close()


def _event(sequence: int, *, stream: str = "s", tag: str = "") -> Incoming:
    digest = f"sha256:{tag}{sequence:04d}"
    previous = f"sha256:{tag}{sequence - 1:04d}" if sequence > 1 else None
    return Incoming("p", f'{{"n": {sequence}}}', stream, sequence, digest, previous, "key-1")


def test_chain_outcomes_and_gap_accounting(store: Store) -> None:
    assert store.admit(_event(1), judge).outcome == "accepted"
    assert store.admit(_event(1), judge).outcome == "duplicate"
    reused = store.admit(_event(1, tag="x"), judge)
    assert (reused.outcome, reused.reason) == ("rejected", "sequence-reused")
    assert store.admit(_event(4), judge).outcome == "accepted"
    assert [gap[:3] for gap in store.open_gaps()] == [("s", 4, 2)]
    opened = store.open_gaps()[0][3]
    assert store.stats().missing_events == 2 and store.stats().streams_with_gaps == 1
    assert store.stats().oldest_gap_since == opened
    assert store.admit(_event(3, tag="y"), judge).reason == "broken-link"  # 4 links to another 3
    assert store.admit(_event(3), judge).outcome == "accepted"
    assert store.open_gaps()[0][3] == opened  # still the same gap, open since it opened
    assert store.admit(_event(2), judge).outcome == "accepted"
    assert store.open_gaps() == [] and store.stats().oldest_gap_since is None
    other_key = Incoming("p", "{}", "s", 5, "sha256:0005", "sha256:0004", "key-2")
    assert store.admit(other_key, judge).reason == "stream-key-mismatch"
    assert [row[1] for row in store.accepted_events()] == [1, 4, 3, 2]


def test_outbox_claim_and_quarantine(store: Store) -> None:
    for sequence in (1, 2, 3):
        store.admit(_event(sequence), judge)
    with store.claim(2) as batch:
        assert [p.body for p in batch] == ['{"n": 1}', '{"n": 2}']
        batch.mark_forwarded(batch[0])
    assert store.stats().queued == 2
    with store.claim(10) as batch:
        assert [p.body for p in batch] == ['{"n": 2}', '{"n": 3}']
    entry = store.quarantine(producer=None, reason="unauthenticated", status=401, detail="no key", body="{}")
    shown = store.quarantine_entry(entry)
    assert (shown.reason, shown.producer, shown.body) == ("unauthenticated", None, "{}")
    assert [e.id for e in store.quarantined(reason="unauthenticated")] == [entry]
    assert store.quarantined(reason="bad-signature") == []


def test_concurrent_admissions_of_one_stream(store: Store) -> None:
    """Everything arrives at once, in any order: each is accepted once, and no gap is left."""
    events = [_event(n, stream="busy") for n in range(1, 41)]
    with ThreadPoolExecutor(8) as pool:
        first = list(pool.map(lambda e: store.admit(e, judge).outcome, reversed(events)))
        again = list(pool.map(lambda e: store.admit(e, judge).outcome, events))
    assert first == ["accepted"] * 40 and again == ["duplicate"] * 40
    assert store.open_gaps() == []


def test_group_commit_isolates_a_failing_admission(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}", serving=True)

    def exploding(event: Incoming, key_id, stored):
        if event.sequence == 2:
            raise RuntimeError("judge failed")
        return judge(event, key_id, stored)

    try:
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(store.admit, _event(n, stream="g"), exploding) for n in (1, 2, 3)]
        with pytest.raises(RuntimeError, match="judge failed"):
            futures[1].result()
        assert futures[0].result().outcome == "accepted" and futures[2].result().outcome == "accepted"
        assert [row[1] for row in store.accepted_events()] in ([1, 3], [3, 1])
    finally:
        store.close()


def test_unchained_signed_event_is_deduplicated_by_digest(store: Store) -> None:
    signed = Incoming("p", "{}", None, None, "sha256:abc", None, "key-1")
    unsigned = Incoming("p", "{}")
    assert store.admit(signed, judge).outcome == "accepted"
    assert store.admit(signed, judge).outcome == "duplicate"
    assert [store.admit(unsigned, judge).outcome for _ in range(2)] == ["accepted", "accepted"]  # nothing to match
