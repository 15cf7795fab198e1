"""Pytest fixture for the Marquez contract server (wire in with ``pytest_plugins = ["conftest_marquez"]``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from marquez_server import MarquezContractServer


@pytest.fixture
def marquez_server() -> Iterator[MarquezContractServer]:
    """A fresh Marquez stand-in on 127.0.0.1 (ephemeral port) for one test.

    ``.url`` base URL; ``.events`` stored run events as ``GET /api/v1/events/lineage`` prints them;
    ``.stored`` the jsonb texts; ``.requests`` what arrived; ``.fail_next(n, status=503)``;
    ``.set_down(bool)`` (connection refused, same port on the way back up); ``.delete_event(i)``;
    ``.replace_event(i, event)``; ``.token = "..."`` to require ``Authorization: Bearer``.
    """
    with MarquezContractServer() as server:
        yield server
