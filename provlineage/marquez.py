"""Read back every event Marquez holds, to verify it like a log file.

``GET /api/v1/events/lineage`` pages through the stored run events.  We ask for the oldest first
(``sortDirection=asc``) so that events arriving while we read land after the pages already read, and for an
explicit time window: Marquez's default window ends at 2030-01-01 and would silently leave later events out.
Each page is parsed with :func:`provlineage._internal.canonical.loads` on the response text, so numbers keep the
spelling rules the signatures were made with.

Marquez orders by ``eventTime`` only; rows with equal times keep no defined order in PostgreSQL, so a page
boundary falling inside such a tie could in theory show one row twice and skip another.  The page size is large
(500) to make that unlikely, and ``provlineage verify`` reports either as a chain finding, never as success.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from provlineage._internal.canonical import loads
from provlineage.errors import ProvlineageError
from provlineage.keys import Keyring
from provlineage.redaction import redact_text
from provlineage.verification import Report, verify_records

EVENTS_ENDPOINT = "api/v1/events/lineage"
WINDOW_AFTER = "0001-01-01T00:00:00Z"
WINDOW_BEFORE = "9999-12-31T23:59:59Z"
PAGE_SIZE = 500


WRONG_URL_FIX = (
    "check that --marquez is the base URL of the Marquez API, e.g. http://localhost:5000 (not the web UI, no path)"
)


def _is_html(response: requests.Response) -> bool:
    return "html" in response.headers.get("Content-Type", "") or response.text.lstrip()[:1] == "<"


def _reason(response: requests.Response) -> str:
    """One line on why a request failed: Marquez's JSON ``message``, or what kind of page came back (never the page)."""
    try:
        body = response.json()
    except ValueError:
        return " (an HTML page, not the Marquez API)" if _is_html(response) else ""
    message = body.get("message") if isinstance(body, dict) else None
    return f": {' '.join(str(message).split())[:200]}" if message else ""


def _split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``https://user:pw@host/`` -> (``https://host/``, (user, pw)): sent as HTTP Basic auth, never printed."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host)), (unquote(parts.username or ""), unquote(parts.password or ""))


class MarquezReader:
    """Pages through a Marquez server's stored OpenLineage events."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        page_size: int = PAGE_SIZE,
        retries: int = 3,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ProvlineageError(
                f"Marquez URL {redact_text(url)[0]!r} is not an http(s) URL",
                "pass e.g. --marquez http://localhost:5000",
            )
        url, credentials = _split_credentials(url)
        self.url = url.rstrip("/") + "/"  # never holds credentials: it is named in every error message
        self.timeout = timeout
        self.page_size = page_size
        self.session = requests.Session()
        self.session.auth = credentials
        retry = Retry(
            total=retries,
            connect=1,  # a refused connection rarely heals within seconds: say so at once
            backoff_factor=0.5,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=("GET",),
            raise_on_status=False,
        )
        self.session.mount(self.url, HTTPAdapter(max_retries=retry))
        self.session.headers["Accept"] = "application/json"
        if api_key:
            self.session.headers["Authorization"] = f"Bearer {api_key}"

    def _page(self, offset: int) -> list[Any]:
        endpoint = urljoin(self.url, EVENTS_ENDPOINT)
        params = {
            "sortDirection": "asc",
            "limit": self.page_size,
            "offset": offset,
            "after": WINDOW_AFTER,
            "before": WINDOW_BEFORE,
        }
        try:
            response = self.session.get(endpoint, params=params, timeout=self.timeout)
        except requests.RequestException as error:
            raise ProvlineageError(
                f"cannot reach Marquez at {self.url} ({type(error).__name__})",
                "check --marquez URL and that Marquez is running",
            ) from None
        if response.status_code in (401, 403):
            raise ProvlineageError(
                f"Marquez at {self.url} refused to list events (HTTP {response.status_code})",
                "pass --api-key (sent as a Bearer token)",
            )
        if response.status_code != 200:
            raise ProvlineageError(
                f"Marquez at {self.url} answered HTTP {response.status_code} to GET /{EVENTS_ENDPOINT}"
                f"{_reason(response)}",
                WRONG_URL_FIX,
            )
        try:
            body = loads(response.content)
        except (ValueError, ProvlineageError) as error:
            what = "an HTML page" if _is_html(response) else f"something that is not JSON ({error})"
            raise ProvlineageError(
                f"Marquez at {self.url} answered GET /{EVENTS_ENDPOINT} with {what}", WRONG_URL_FIX
            ) from None
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            raise ProvlineageError(
                f"Marquez at {self.url} answered without an `events` list", "check the URL and the Marquez version"
            )
        return events

    def events(self) -> Iterator[tuple[str, int, Any]]:
        """Every stored run event, oldest first, as ``(URL, position, event)`` for :func:`verify_records`."""
        offset = 0
        source = self.url.rstrip("/")
        while True:
            page = self._page(offset)
            for index, event in enumerate(page):
                yield source, offset + index + 1, event
            offset += len(page)
            if len(page) < self.page_size:
                return

    def close(self) -> None:
        self.session.close()


def verify_marquez(
    url: str, keyring: Keyring, *, api_key: str | None = None, keep_events: bool = False, every_signature: bool = False
) -> Report:
    """Verify every event Marquez holds, chains included (sorted by sequence: Marquez's order means nothing)."""
    reader = MarquezReader(url, api_key=api_key)
    try:
        records = list(reader.events())
    finally:
        reader.close()
    return verify_records(
        records, keyring, keep_events=keep_events, in_log_order=False, every_signature=every_signature
    )
