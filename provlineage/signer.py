"""The ``Signer`` interface and the file-key signer.

A signer turns bytes into a signature and says which key and algorithm made it.  That is all provlineage needs,
so a key held in AWS KMS, an HSM (PKCS#11) or Vault transit plugs in by implementing three members (see the
README for a KMS example).  Verification needs only the public key, never the signer.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from provlineage.keys import PrivateKey, key_id, load_private_key, signature_algorithm


@runtime_checkable
class Signer(Protocol):
    """Signs bytes. ``algorithm`` is one of ``ed25519``, ``ecdsa-p256-sha256``, ``rsa-pss-sha256``."""

    @property
    def algorithm(self) -> str: ...

    @property
    def key_id(self) -> str:
        """``sha256:<hex>`` of the public key's SubjectPublicKeyInfo DER."""
        ...

    def sign(self, message: bytes) -> bytes: ...


#: RSA-PSS as AWS KMS (RSASSA_PSS_SHA_256) and most HSMs make it: MGF1-SHA256, salt = digest length.
RSA_PSS_SIGN = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


class KeySigner:
    """Signs with a private key held in this process."""

    def __init__(self, private_key: PrivateKey) -> None:
        self._key = private_key
        self._algorithm = signature_algorithm(private_key)
        self._key_id = key_id(private_key.public_key())

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, passphrase_env: str | None = None) -> KeySigner:
        return cls(load_private_key(path, passphrase_env=passphrase_env))

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def key_id(self) -> str:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        key = self._key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(message)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(message, ec.ECDSA(hashes.SHA256()))
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(message, RSA_PSS_SIGN, hashes.SHA256())
        raise TypeError(f"unsupported key {type(key).__name__}")
