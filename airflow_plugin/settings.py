"""The ``[provlineage]`` Airflow config section (env ``AIRFLOW__PROVLINEAGE__<KEY>``), read once per process.

A bad value never stops a task: it is logged once, naming the key and the fix, and its default is used.

=====================  ==================================================  ========================================
key                    default                                             meaning
=====================  ==================================================  ========================================
enabled                ``True``                                            ``False``: the plugin registers nothing
training_tasks         ``train, fit``                                      task-id words that mean *training*
inference_tasks        ``predict, infer, score, scoring``                  ... *inference*
evaluation_tasks       ``eval, validate, validation``                      ... *evaluation* (metrics captured)
model_patterns         ``*.pkl, *.joblib, *.pt, *.onnx, ...``              file names that are model artifacts
hash_remote            ``False``                                           also hash ``s3://``, ``gs://``... inlets
hash_ignore            (empty)                                             fnmatch patterns left out of directories
hash_workers           (CPUs)                                              threads hashing files at once
manifest_limit         ``1000``                                            manifest entries kept per facet
hyperparameters        ``True``                                            record task arguments
max_parameter_bytes    ``4096``                                            larger argument values are summarised
secret_pattern         (provlineage's default)                             regex of argument names to redact
=====================  ==================================================  ========================================
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any

from provlineage._internal import values

log = logging.getLogger("provlineage.airflow")

SECTION = "provlineage"
DEFAULT_MODEL_PATTERNS = (
    "*.pkl", "*.pickle", "*.joblib", "*.pt", "*.pth", "*.onnx", "*.safetensors", "*.h5", "*.keras",
    "*.ckpt", "*.gguf", "*.tflite", "*.mlmodel", "*.model",
)  # fmt: skip


def _words(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(";", ",").split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    enabled: bool = True
    training_tasks: tuple[str, ...] = ("train", "fit")
    inference_tasks: tuple[str, ...] = ("predict", "infer", "score", "scoring")
    evaluation_tasks: tuple[str, ...] = ("eval", "validate", "validation")
    model_patterns: tuple[str, ...] = DEFAULT_MODEL_PATTERNS
    hash_remote: bool = False
    hash_ignore: tuple[str, ...] = ()
    hash_workers: int | None = None
    manifest_limit: int = 1000
    hyperparameters: bool = True
    max_parameter_bytes: int = 4096
    secret_pattern: str | None = None
    problems: tuple[str, ...] = field(default=(), compare=False)
    """One line per value that could not be used (already logged)."""


def _airflow_conf() -> Any:
    try:
        from airflow.sdk.configuration import conf
    except ImportError:  # Airflow core without the task SDK (API server, scheduler of older releases)
        from airflow.configuration import conf
    return conf


def _parse(name: str, kind: type | str, raw: str) -> Any:
    text = raw.strip()
    if kind == "words":
        return tuple(word.lower() for word in _words(text)) if name.endswith("_tasks") else _words(text)
    if kind is bool:
        return values.boolean(text)
    if kind in (int, "optional_int"):
        if not text and kind == "optional_int":
            return None
        value = int(text)
        if value < 0:
            raise ValueError("expected a number >= 0")
        return value
    return text or None


_KINDS: dict[str, type | str] = {
    "enabled": bool,
    "training_tasks": "words",
    "inference_tasks": "words",
    "evaluation_tasks": "words",
    "model_patterns": "words",
    "hash_remote": bool,
    "hash_ignore": "words",
    "hash_workers": "optional_int",
    "manifest_limit": int,
    "hyperparameters": bool,
    "max_parameter_bytes": int,
    "secret_pattern": str,
}


def read_settings(conf: Any | None = None) -> Settings:
    """Read ``[provlineage]``; unusable values are logged and replaced by their defaults."""
    conf = conf if conf is not None else _airflow_conf()
    values: dict[str, Any] = {}
    problems: list[str] = []
    for item in fields(Settings):
        if item.name == "problems":
            continue
        try:
            raw = conf.get(SECTION, item.name, fallback=None)
        except Exception as error:  # a broken airflow.cfg must not break tasks
            raw = None
            problems.append(f"[{SECTION}] {item.name} could not be read ({error}); using the default")
        if raw is None:
            continue
        try:
            values[item.name] = _parse(item.name, _KINDS[item.name], str(raw))
        except ValueError as error:
            problems.append(
                f"[{SECTION}] {item.name} = {raw!r} is not valid ({error}); using the default "
                f"{getattr(Settings, item.name)!r}. Fix AIRFLOW__{SECTION.upper()}__{item.name.upper()}"
            )
    if values.get("secret_pattern"):
        import re

        try:
            re.compile(values["secret_pattern"])
        except re.error as error:
            problems.append(
                f"[{SECTION}] secret_pattern is not a valid regular expression ({error}); using the default"
            )
            values.pop("secret_pattern")
    for problem in problems:
        log.error("provlineage: %s", problem)
    return Settings(**values, problems=tuple(problems))


@cache
def settings() -> Settings:
    """The settings of this process (tasks run in short-lived processes, so reading once is enough)."""
    try:
        return read_settings()
    except Exception as error:
        log.error("provlineage: cannot read the [%s] Airflow config section (%s); using defaults", SECTION, error)
        return Settings(problems=(str(error),))
