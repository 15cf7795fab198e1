"""What an answer says about a run's environment and code: a short summary of the environment facet and git."""

from __future__ import annotations

from typing import Any

from provlineage import facets as pf
from provlineage.lineage.graph import Run

#: Distributions worth naming in an answer: they decide what a model computes.
KEY_PACKAGES = (
    "catboost",
    "jax",
    "keras",
    "lightgbm",
    "numpy",
    "pandas",
    "scikit-learn",
    "scipy",
    "tensorflow",
    "torch",
    "transformers",
    "xgboost",
)


def environment_summary(facet: dict[str, Any] | None) -> dict[str, Any] | None:
    """Interpreter, OS, host, container and the digest of all installed packages, plus the ML packages by name."""
    if facet is None:
        return None
    python = facet.get("python") if isinstance(facet.get("python"), dict) else {}
    system = facet.get("os") if isinstance(facet.get("os"), dict) else {}
    distributions = facet.get("distributions") if isinstance(facet.get("distributions"), dict) else {}
    summary: dict[str, Any] = {
        "python": python.get("version"),
        "implementation": python.get("implementation"),
        "os": " ".join(str(system[k]) for k in ("name", "release") if system.get(k)) or None,
        "architecture": facet.get("architecture"),
        "hostname": facet.get("hostname"),
        "containerImage": facet.get("containerImage"),
        "distributionsDigest": facet.get("distributionsDigest"),
        "distributionCount": len(distributions) if distributions else facet.get("distributionCount"),
        "keyPackages": {name: distributions[name] for name in KEY_PACKAGES if name in distributions} or None,
        "gpus": len(facet["gpus"]) if isinstance(facet.get("gpus"), list) else None,
    }
    return {key: value for key, value in summary.items() if value is not None}


def git_summary(run: Run) -> dict[str, Any] | None:
    """The code version: the environment facet's git block, else OpenLineage's ``sourceCodeLocation`` job facet."""
    environment = run.facet(pf.ENVIRONMENT) or {}
    git = environment.get("git")
    if isinstance(git, dict) and git.get("commit"):
        return {key: git[key] for key in ("commit", "branch", "dirty", "remoteUrl", "describe") if key in git}
    location = run.job_facets.get("sourceCodeLocation")
    if isinstance(location, dict) and location.get("version"):
        summary = {
            "commit": location["version"],
            "remoteUrl": location.get("repoUrl") or location.get("url"),
            "branch": location.get("branch"),
        }
        return {key: value for key, value in summary.items() if value is not None}
    return None
