"""Read back every event Marquez holds, to verify it like a log file.

``GET /api/v1/events/lineage`` lists the stored run events of a time window (``after <= eventTime < before``),
ordered by ``eventTime`` only.  Rows with equal times have no defined order in PostgreSQL, and the order changes
with ``limit`` and ``offset``: Marquez 0.51.1 on PostgreSQL 15 sorts a small ``LIMIT`` with a top-N heap sort and
a larger one with quicksort, so offset pages that cut through a run of equal times showed some events twice and
others never (``provlineage verify`` then reports false duplicates and gaps; seen with 60 events sharing one
time across the 500th row of 1,100).  So we never page with ``offset``.  A request without offset that returns
fewer rows than its ``limit`` holds the whole window, in whatever order; a full one means the window holds more,
and we narrow it to end at the last row's time (truncated to the microsecond, PostgreSQL's precision): every row
before that instant came in the full page, so the narrowed window fits in one page.  When a single microsecond
holds a full page, it is read in one request whose limit exceeds Marquez's ``totalCount`` for it (which counts
events of every type, so it bounds the run events).  The windows follow each other, oldest first, and between
them cover every time from 0001-01-01 to 9999-12-31 (Marquez's own default window ends at 2030-01-01).

Each page is parsed with :func:`provlineage._internal.canonical.loads` on the response text, so numbers keep the
spelling rules the signatures were made with.  Events stored while we read may or may not be listed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
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
WINDOW_AFTER = datetime(1, 1, 1, tzinfo=timezone.utc)
WINDOW_BEFORE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
PAGE_SIZE = 500
MAX_LIMIT = 2**31 - 1  # ``limit`` is a Java int: a larger one is answered with 404
MICROSECOND = timedelta(microseconds=1)
# How Marquez prints ``eventTime`` (ISO_OFFSET_DATE_TIME, in UTC): up to nine fraction digits.
_EVENT_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}(?::\d{2})?)"
)


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


def _query_time(moment: datetime) -> str:
    """A window bound as Marquez parses it (``ZonedDateTime``), to the microsecond."""
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _event_time(event: Any) -> datetime | None:
    """An event's ``eventTime``, truncated to the microsecond; None when it is not a time Marquez prints."""
    text = event.get("eventTime") if isinstance(event, dict) else None
    match = _EVENT_TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "")[:6].ljust(6, "0"))
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micros, tzinfo=timezone.utc
        )
        if offset != "Z":
            hours, minutes, seconds = (int(part) for part in (offset[1:] + ":00").split(":")[:3])
            shift = timedelta(hours=hours, minutes=minutes, seconds=seconds)
            moment = moment - shift if offset[0] == "+" else moment + shift
    except (ValueError, OverflowError):
        return None
    return moment


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

    def get(
        self, path: str, what: str, *, params: dict[str, Any] | None = None, reading: str = ""
    ) -> requests.Response:
        """GET ``path`` under the base URL; one-line errors for an unreachable server and a refused request."""
        try:
            response = self.session.get(urljoin(self.url, path), params=params, timeout=self.timeout)
        except requests.RequestException as error:
            raise ProvlineageError(
                f"cannot reach Marquez at {self.url} ({type(error).__name__}){reading}",
                "check --marquez URL and that Marquez is running",
            ) from None
        if response.status_code in (401, 403):
            raise ProvlineageError(
                f"Marquez at {self.url} refused to {what} (HTTP {response.status_code})",
                "pass --api-key (sent as a Bearer token)",
            )
        return response

    def _window(self, after: datetime, before: datetime, limit: int) -> tuple[list[Any], int]:
        """One request without offset: the first ``limit`` run events of the window, and Marquez's ``totalCount``."""
        params = {
            "sortDirection": "asc",
            "limit": limit,
            "after": _query_time(after),
            "before": _query_time(before),
        }
        response = self.get(EVENTS_ENDPOINT, "list events", params=params)
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
        total = body.get("totalCount")
        return events, total if isinstance(total, int) and not isinstance(total, bool) else 0

    def _whole_window(self, after: datetime, before: datetime, total: int) -> list[Any]:
        """Every run event of a window, in one request whose limit exceeds what the window holds."""
        limit = self.page_size
        while True:
            limit = min(max(total + 1, 2 * limit), MAX_LIMIT)
            events, total = self._window(after, before, limit)
            if len(events) < limit or limit == MAX_LIMIT:
                return events

    def _next_window(self, after: datetime) -> tuple[list[Any], datetime]:
        """Every run event from ``after`` up to a time this returns, read without offset (see the module doc)."""
        before = WINDOW_BEFORE
        while True:
            events, total = self._window(after, before, self.page_size)
            if len(events) < self.page_size:
                return events, before
            last = _event_time(events[-1])
            if last is None or last >= before:  # a time we cannot read or place: the rest of the window at once
                return self._whole_window(after, before, total), before
            if last <= after:  # one microsecond holds a full page
                before = after + MICROSECOND
                return self._whole_window(after, before, total), before
            before = last  # the rows before the last one's microsecond: fewer than a page, all in this one

    def events(self) -> Iterator[tuple[str, int, Any]]:
        """Every stored run event, oldest first, as ``(URL, position, event)`` for :func:`verify_records`."""
        source = self.url.rstrip("/")
        position = 0
        after = WINDOW_AFTER
        while after < WINDOW_BEFORE:
            events, after = self._next_window(after)
            for event in events:
                position += 1
                yield source, position, event

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
