"""A contract server that behaves like Marquez 0.51 towards OpenLineage clients.

Marquez is a Java service (Dropwizard + Jackson + PostgreSQL) that cannot run here, yet provlineage must
deliver events to it over HTTP and verify signatures against the copy Marquez gives back. This server
re-implements, in plain Python, the behaviour a client can observe: status codes and bodies of
``POST /api/v1/lineage``, and the *rewritten* events returned by ``GET /api/v1/events/lineage``.
No Marquez code is copied; every rule below was derived from reading Marquez's sources (commit a89b89c,
March 2025; paths relative to ``api/src/main/java/marquez/``).  Rules marked *observed* were corrected or added
after running the real Marquez 0.51.1 (built from source, Java 17, PostgreSQL 15) on 2026-11-30; the evidence is in
tests/marquez_contract/observed/ (REPORT.md there; ``contract_vs_real.txt`` replays the same requests against both).

How Marquez handles a POSTed event, and what this server reproduces
-------------------------------------------------------------------
Parsing (Dropwizard's Jersey ObjectMapper, ``MarquezApp.java`` + ``io.dropwizard.jackson.Jackson``):
  * Malformed JSON (NaN/Infinity literals included) and any type mismatch Jackson cannot coerce (an
    object where a string is expected, a bad date, an invalid URI, ...) -> HTTP 500 with body
    ``{"code":400,"message":...}`` (``api/exceptions/JsonProcessingExceptionMapper.java`` uses
    ``Response.serverError()`` with code 400 in the body).
  * Content after the first JSON value is refused like malformed JSON: 500 with ``{"code":400,"message":
    "Trailing token ..."}`` (*observed*, raw/p2_68_trailing_content: FAIL_ON_TRAILING_TOKENS is on).
    Duplicate keys: the last one wins; unknown keys are ignored where a class has no ``@JsonAnySetter``
    (Dropwizard disables FAIL_ON_UNKNOWN_PROPERTIES).
  * An empty body or ``null`` -> 422 ``{"errors":["The request body must not be null"]}``.
  * The top-level ``schemaURL`` picks the event class (``service/models/EventTypeResolver.java``): a URL
    ending in ``/DatasetEvent`` or ``/JobEvent`` is a static event, anything else a run event.
Validation (``@Valid``/``@NotNull`` in ``service/models/LineageEvent.java``; Dropwizard answers 422
``{"errors":["<path> must not be null", ...]}``): eventTime, run, run.runId, job, job.namespace, job.name,
producer, each dataset's namespace/name, and inside the *typed* facets: ``_producer``/``_schemaURL`` of
every typed facet, nominalTime.nominalStartTime, parent.run.runId, parent.job.namespace/name,
documentation.description, sql.query, jobType.{processingType,integration,jobType},
schema.fields[].name, symlinks.identifiers[].namespace/name. Custom facets are never validated.
After validation (``service/OpenLineageService.createAsync`` runs the raw insert and the model update
in parallel, so *the raw event is stored even when the answer is 400*):
  * 400 with the servlet's JSON error page (*observed*, raw/p2_70_bad_input_namespace), when an input dataset
    namespace does not match ``^[a-zA-Z:;=/0-9_\\-\\.@+]{1,1024}$``
    or its name is blank (``db/OpenLineageDao.toDatasetId`` -> ``common/models/NamespaceName.java``);
    on COMPLETE/FAIL/ABORT events (and every event of a STREAMING job) the same check covers every
    dataset the run has seen, and the job namespace after Marquez replaces characters outside
    ``[a-z:/A-Z0-9\\-_.@+]`` with ``_`` (``OpenLineageDao.formatNamespaceName``, job versioning in
    ``db/JobVersionDao.java``). A job namespace such as ``"my ns"`` is therefore accepted (201).
  * 500 with the servlet's JSON error page (*observed*, raw/p2_65_nul_char), not stored: a string containing
    U+0000 (PostgreSQL jsonb rejects ``\\u0000``).  The model update's own 500 (a run event whose ``schemaURL``
    names a dataset event, raw/p6_06_...) has the same body.
  * 201, empty body: success (``api/OpenLineageResource.onComplete``).
Re-serialization into ``lineage_events.event`` (jsonb) by ``common/Utils.newObjectMapper`` (NON_NULL,
ISO dates), see ``OpenLineageDao.createJsonArray``:
  1. Typed fields go through Java types: ``eventTime`` and nominalTime's ``nominalStartTime`` /
     ``nominalEndTime`` are ``ZonedDateTime``: adjusted to UTC on input (ADJUST_DATES_TO_CONTEXT_TIME_ZONE,
     Jersey mapper) and printed by ``ISO_OFFSET_DATE_TIME``: ``Z`` suffix, seconds always present,
     fraction without trailing zeros (``...00.120+00:00`` -> ``...00.12Z``), nanosecond precision kept;
     a timestamp without offset is read in the server zone (UTC in the Marquez image;
     ``common/models/FlexibleDateTimeDeserializer.java``); a JSON number is epoch seconds.
  2. Typed string fields (eventType, runId, namespaces, names, producer, description, query, ...)
     accept any JSON scalar and keep its literal text: ``"name": 12.50`` is stored as ``"12.50"``.
  3. The ``parent`` run facet (also accepted under its old name ``parentRun``, renamed ``parent``) keeps
     only ``run.runId``, ``job.namespace``, ``job.name`` (``RunLink``/``JobLink`` have no any-setter)
     plus its own extra top-level keys (``root``, ``_producer``, ``_schemaURL``, ...).
  4. Null object members are dropped at every depth (NON_NULL for properties and map contents);
     ``null`` elements of arrays are kept.
  5. Numbers: integers keep their digits; every other number becomes a Java double printed by
     ``Double.toString`` (``1e2`` -> ``100.0``, ``1e-7`` -> ``1.0E-7``; Java 17's own spelling of the values in
     ``JAVA17_DOUBLE_TEXT``, *observed*), and an overflow such as ``1e400``
     becomes the *string* ``"Infinity"`` (WRITE_NAN_AS_STRINGS). PostgreSQL numeric then prints plain
     decimals (``1.0E-7`` -> ``0.00000010``, ``1.0E16`` -> ``10000000000000000``).
  6. jsonb drops key order and whitespace: keys sorted by UTF-8 length, then bytes; text printed as
     ``{"a": 1, "bb": [1, 2]}``. Lone UTF-16 surrogates become ``?`` (JDBC's UTF-8 encoder).
How ``GET /api/v1/events/lineage`` answers (``OpenLineageResource.getLineageEvents``,
``db/OpenLineageDao.getAllLineageEvents{Desc,Asc}``, ``db/mappers/LineageEventMapper.java``):
  * Rows with ``after <= eventTime < before`` (defaults 1970-01-01T00:00Z and **2030-01-01T00:00Z**, so
    later events are not listed), run events only, ordered by eventTime (``sortDirection`` desc by
    default, case-insensitive), ``limit`` default 100, ``offset`` default 0 (negative -> 400, not an
    integer -> 404). ``totalCount`` counts rows of *every* event type in the window (*observed*: 47 for 46 run
    events and 1 dataset event) and comes first in the body: ``{"totalCount":0,"events":[]}`` (*observed*).
  * Rows with equal eventTime come back in an order that changes with ``limit`` and ``offset`` (*observed*,
    ties_summary.txt and paging/: PostgreSQL sorts a small LIMIT with a top-N heap sort, a larger one with
    quicksort; seen on a freshly started Marquez, before its statement got a cached index-scan plan), so offset
    pages through such a run repeat some events and skip others.  This server gives each
    ``limit + offset`` its own order among equal times whenever that bound is below the number of rows; the
    exact permutations PostgreSQL picks are not reproduced.
  * Each row is parsed again by Jackson into ``LineageEvent`` and printed by the Jersey mapper, which has
    no NON_NULL: every typed property that is absent comes back as ``null`` (``"inputs": null``,
    ``"facets": {"nominalTime": null, "parent": null, ...}``); typed properties come first in Java
    declaration order, other keys follow in jsonb order; jsonb decimals are read back as doubles
    (``0.00000010`` -> ``1.0E-7``) and jsonb integers as integers (``10000000000000000``).

Known simplifications: doubles use the shortest round-trip digits (Java 19+) except the values in
``JAVA17_DOUBLE_TEXT`` that Java 17 was seen to print otherwise; other Java 17 differences are not known here;
``java.net.URI`` syntax is approximated; years outside 0001-9999 are rejected; error *messages* (not codes)
only resemble Jackson's/Dropwizard's (the ones marked *observed* are the real server's, minus the parse
index of a bad time). The jobs and lineage-graph endpoints are minimal views built from the stored events (no
versions, no parent-job renaming).
Marquez has no authentication; the optional bearer token models the proxy users put in front of it.
"""

from __future__ import annotations

from .java_values import java_double
from .model import marquez_api_view, marquez_stored_json
from .server import MarquezContractServer
from .storage import RecordedRequest

__all__ = [
    "MarquezContractServer",
    "RecordedRequest",
    "java_double",
    "marquez_api_view",
    "marquez_stored_json",
]
