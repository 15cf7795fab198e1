"""Airflow's own secrets masker, applied to the task arguments provlineage records.

Airflow knows which values are secret: reading a connection registers its password and extras, and reading a
variable whose name looks sensitive registers its value (``mask_secret``).  Those values can reach a task's
arguments through templates (``{{ conn.prod_db.get_uri() }}``, ``{{ var.value.api_token }}``) under any argument
name, where no key-name rule would see them.  So before provlineage's own redaction runs, every argument string
goes through the masker of the task process (the one the template rendering just fed), and every argument whose
*name* Airflow deems sensitive is hidden whole.  A value changed here shows as ``***`` (only the secret part of
a longer string) and its path joins ``redactedKeys``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any
from urllib.parse import unquote

log = logging.getLogger("provlineage.airflow")

REDACTED = "***"
_MASKER_MODULES = (
    "airflow.sdk._shared.secrets_masker",  # Airflow >= 3.1 task SDK: the instance mask_secret() feeds
    "airflow._shared.secrets_masker",
    "airflow.sdk.execution_time.secrets_masker",  # deprecated alias
    "airflow.utils.log.secrets_masker",  # Airflow 2
)


@cache
def _masker_functions() -> tuple[Callable[[Any], Any], Callable[[str], bool]] | None:
    import importlib
    import warnings

    for name in _MASKER_MODULES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                module = importlib.import_module(name)
            return module.redact, module.should_hide_value_for_key
        except (ImportError, AttributeError):
            continue
    return None


def mask_with_airflow(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``values`` with what Airflow's masker knows as secret replaced by ``***``, and the dotted paths changed.

    Raises when the masker is missing or fails, so the caller can leave the arguments out rather than record
    them unmasked.
    """
    functions = _masker_functions()
    if functions is None:
        raise RuntimeError("Airflow's secrets masker was not found in this Airflow release")
    redact, hides_key = functions
    found: list[str] = []

    def text(value: str, path: str) -> str:
        masked = redact(value)
        if not isinstance(masked, str):  # the masker failed closed
            found.append(path)
            return REDACTED
        if masked != value:
            found.append(path)
            return masked
        if "%" in value and redact(unquote(value)) != unquote(value):  # get_uri() percent-encodes passwords
            found.append(path)
            return REDACTED
        return value

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, str):
            return text(value, path)
        if isinstance(value, Mapping):
            result = {}
            for key, item in value.items():
                dotted = f"{path}.{key}" if path else str(key)
                if item is not None and hides_key(str(key)):
                    found.append(dotted)
                    result[key] = REDACTED
                else:
                    result[key] = walk(item, dotted)
            return result
        if isinstance(value, (list, tuple)):
            items = [walk(item, f"{path}[{index}]") for index, item in enumerate(value)]
            return tuple(items) if isinstance(value, tuple) else items
        if value is None or isinstance(value, (bool, int, float)):
            return value
        shown = str(value)  # an object: it is recorded through its text, so that text must be clean
        return value if text(shown, path) == shown else REDACTED

    return walk(dict(values), ""), found
