"""What every provlineage facet shares: the producer stamp and the fields Airflow's masker must leave alone."""

from __future__ import annotations

from provlineage._internal.constants import PRODUCER

# Values such as digests and key ids look like secrets to Airflow's masker; they are not.
NEVER_REDACT = ["digest", "keyId", "signature", "algorithm", "previousDigest"]


class ProvlineageFacet:
    """Stamps provlineage as the producer of its own facets (the base class would name the OL client)."""

    def __attrs_post_init__(self) -> None:
        if not self._producer:  # type: ignore[has-type]
            self._producer = PRODUCER
        self._schemaURL = self._get_schema()  # type: ignore[attr-defined]
