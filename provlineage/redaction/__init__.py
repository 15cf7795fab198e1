"""Take secrets out of everything provlineage itself puts into an event, before it is signed.

A signed record cannot be edited later, so a secret has to be caught on the way in.  Three layers, each for
what the others miss:

* **key names** (:mod:`.keys`): a value under a key such as ``password``, ``db_pw`` or ``openai_key`` becomes
  ``"***"`` whatever it is;
* **provlineage's own shapes** (:mod:`.patterns`): the secret part of URL userinfo (``postgresql://app:***@db``),
  scheme-less DSNs, JDBC/ADO ``password=``, query tokens (``?access_token=``, SAS ``sig=``), ``Bearer``/``Basic``
  credentials, ``--password X`` argument pairs, PEM private keys, and a few vendor token shapes;
* **detect-secrets** (:mod:`.library`), the maintained scanner, for vendor tokens (AWS, Slack, GitHub, Stripe, JWT,
  ...) and high-entropy keys, run only on strings that pass a cheap pre-filter, and cached per string.

Only the secret part of a string is replaced by ``***``, so the rest stays readable.  :func:`redact` is the
stable entry point (the Airflow plugin uses it too): it returns the cleaned value and the dotted paths it changed.
"""

from __future__ import annotations

from provlineage.redaction.keys import DEFAULT_SECRET_PATTERN, secret_matcher
from provlineage.redaction.text import REDACTED, redact_text
from provlineage.redaction.walk import redact

__all__ = ["DEFAULT_SECRET_PATTERN", "REDACTED", "redact", "redact_text", "secret_matcher"]
