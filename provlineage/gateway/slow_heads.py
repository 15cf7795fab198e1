"""A deadline for request heads: uvicorn bounds idle keep-alive connections but not a client that sends its
request line and headers slowly (slowloris), which would hold a connection, and so a ``max_connections`` slot,
forever.  This wraps uvicorn's HTTP protocol (httptools or h11, whichever it picked): a connection with no request
in progress, neither a new one nor one whose response is done, that is still open ``timeout`` seconds after it
opened or after its last response, gets 408 and is closed.  Bodies are bounded by the app (``read_timeout``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

__all__ = ["TIMEOUT_ANSWER", "guarded_protocol"]

_BODY = json.dumps({"error": "timeout", "detail": "request head not received in time"}).encode()
TIMEOUT_ANSWER = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    + b"content-length: %d\r\n\r\n" % len(_BODY)
    + _BODY
)


def guarded_protocol(timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class with the head deadline (pass it as ``uvicorn.Config(http=...)``)."""

    class HeadDeadline(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(timeout, self._expire, self.cycle)

        def _expire(self, armed_with: Any) -> None:
            if self.transport.is_closing():
                return
            if self.cycle is None or (self.cycle is armed_with and self.cycle.response_complete):
                self.transport.write(TIMEOUT_ANSWER)
                self.transport.close()

    return HeadDeadline
