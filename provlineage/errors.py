"""Errors that tell the user what went wrong, on what, and what to do about it.

Every message is one line: ``<what failed> (<the thing>): <why>. <the fix>``.  The CLI prints
``str(error)`` and exits 2; library callers can catch :class:`ProvlineageError`.
"""

from __future__ import annotations


class ProvlineageError(Exception):
    """Base class: ``what`` names the failure and the thing, ``fix`` tells the user what to do."""

    def __init__(self, what: str, fix: str = "") -> None:
        self.what = what
        self.fix = fix
        super().__init__(f"{what}. {fix}".strip() if fix else what)


class KeyLoadError(ProvlineageError):
    """A key file is missing, unreadable, of the wrong kind, or its passphrase is wrong."""


class ConfigError(ProvlineageError):
    """A configuration value is missing or malformed."""


class CanonicalizationError(ProvlineageError):
    """An event holds a value the canonical form cannot carry."""


class SigningError(ProvlineageError):
    """An event could not be signed."""


class DeliveryError(ProvlineageError):
    """An event could not be handed to its backend (and strict mode is on)."""


class HashingError(ProvlineageError):
    """A dataset could not be read or hashed."""


class LineageNotFound(ProvlineageError):
    """The model, dataset, run or inference asked about is not in the verified record."""
