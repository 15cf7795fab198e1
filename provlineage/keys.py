"""Key generation, loading and identification.

A key id is ``sha256:<hex>`` of the public key's SubjectPublicKeyInfo DER, so anyone holding the public key can
recompute it.  Private keys may be encrypted (PKCS#8, best available encryption) with a passphrase that is read
from an environment variable the user names, never from the command line or a config file.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives._serialization import Encoding, PublicFormat
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from provlineage.errors import KeyLoadError

if TYPE_CHECKING:  # keys are read with os only: `provlineage verify` does not pay for pathlib's import
    from pathlib import Path

log = logging.getLogger(__name__)

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey

#: keygen names -> signature algorithm recorded in events.
KEYGEN_ALGORITHMS = {
    "ed25519": "ed25519",
    "ecdsa-p256": "ecdsa-p256-sha256",
    "rsa-pss-2048": "rsa-pss-sha256",
    "rsa-pss-3072": "rsa-pss-sha256",
}
PRIVATE_KEY_FILE = "private_key.pem"
PUBLIC_KEY_FILE = "public_key.pem"
#: Modes keygen writes whatever the umask: readable by the owner only, except the public key.
PRIVATE_KEY_MODE = 0o600
PUBLIC_KEY_MODE = 0o644
KEY_DIRECTORY_MODE = 0o700


def generate_private_key(algorithm: str) -> PrivateKey:
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm in ("rsa-pss-2048", "rsa-pss-3072"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm.rsplit("-", 1)[1]))
    raise KeyLoadError(f"unknown key algorithm {algorithm!r}", f"choose one of: {', '.join(KEYGEN_ALGORITHMS)}")


def _load_pem_public_key(data: bytes) -> PublicKey:
    """``serialization.load_pem_public_key``, without importing ``serialization`` on the verify path.

    ``cryptography.hazmat.primitives.serialization`` imports its SSH and cipher modules (~10 ms of every
    ``provlineage verify`` start-up); its ``load_pem_public_key`` is the Rust binding's own function, called here
    directly when the binding has it.
    """
    try:
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl

        load = rust_openssl.keys.load_pem_public_key
    except (ImportError, AttributeError):  # a cryptography that moved it: the public name
        from cryptography.hazmat.primitives.serialization import load_pem_public_key as load
    return load(data)  # type: ignore[no-any-return]


def key_id(public_key: PublicKey) -> str:
    der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def signature_algorithm(key: PrivateKey | PublicKey) -> str:
    """The algorithm name recorded in signatures made with (or verified by) ``key``."""
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyLoadError(
                f"unsupported EC curve {key.curve.name}", "use a P-256 key (provlineage keygen --algorithm ecdsa-p256)"
            )
        return "ecdsa-p256-sha256"
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < 2048:
            raise KeyLoadError(f"RSA key of {key.key_size} bits is too small", "use 2048 bits or more")
        return "rsa-pss-sha256"
    raise KeyLoadError(f"unsupported key type {type(key).__name__}", "use an Ed25519, ECDSA P-256 or RSA key")


@dataclass(frozen=True)
class KeyPairPaths:
    private_key: Path
    public_key: Path
    key_id: str


def write_key_pair(
    out_dir: Path, algorithm: str, *, passphrase: bytes | None = None, force: bool = False
) -> KeyPairPaths:
    """Generate a key pair into ``out_dir``; refuses to overwrite unless ``force``, and never follows a link.

    Modes do not depend on the umask: the private key is 0600, the public key 0644, and a directory created here
    0700.  A symbolic link where a key file goes is refused, even with ``force`` (it may point anywhere).
    """
    private_path, public_path = out_dir / PRIVATE_KEY_FILE, out_dir / PUBLIC_KEY_FILE
    links = [p for p in (private_path, public_path) if p.is_symlink()]
    if links:
        raise KeyLoadError(
            f"key file {links[0]} is a symbolic link (to {os.readlink(links[0])}); keygen never writes through one",
            f"remove the link ({links[0]}) and run keygen again",
        )
    existing = [p for p in (private_path, public_path) if p.exists()]
    if existing and not force:
        raise KeyLoadError(
            f"key file {existing[0]} already exists", "pass --force to replace it, or choose another --out-dir"
        )
    from cryptography.hazmat.primitives import serialization

    private_key = generate_private_key(algorithm)
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    private_pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    public_pem = private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    try:
        _make_private_directory(out_dir)
        for path in existing:
            path.unlink()
        _write_new_file(private_path, private_pem, PRIVATE_KEY_MODE)
        _write_new_file(public_path, public_pem, PUBLIC_KEY_MODE)
    except OSError as error:
        raise KeyLoadError(
            f"key pair cannot be written to {out_dir} ({error.strerror or error})",
            "choose an --out-dir that is (or can be created as) a writable directory without links at the key files",
        ) from None
    return KeyPairPaths(private_path, public_path, key_id(private_key.public_key()))


def _make_private_directory(directory: Path) -> None:
    """Create ``directory`` and missing parents as 0700 (an existing directory keeps its mode)."""
    missing = []
    for candidate in (directory, *directory.parents):
        if os.path.isdir(candidate):
            break
        missing.append(candidate)
    for path in reversed(missing):
        os.mkdir(path, KEY_DIRECTORY_MODE)
        os.chmod(path, KEY_DIRECTORY_MODE)  # the umask may have taken bits away; it must not add or keep any


def _write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (never an existing file, never through a symbolic link) with exactly ``mode``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, mode)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), mode)
        handle.write(data)


def read_passphrase(passphrase_env: str | None) -> bytes | None:
    """The passphrase in ``$passphrase_env`` (``None`` when no variable is named); unset or empty is an error."""
    if not passphrase_env:
        return None
    value = os.environ.get(passphrase_env)
    if value is None:
        raise KeyLoadError(
            f"passphrase variable {passphrase_env} is not set",
            f"export {passphrase_env}=<passphrase> in the environment of the process that signs",
        )
    if not value:
        raise KeyLoadError(
            f"passphrase variable {passphrase_env} is empty",
            f"put the passphrase in {passphrase_env}, or name no passphrase variable for an unencrypted key",
        )
    return value.encode("utf-8")


_WARNED_UNENCRYPTED: set[str] = set()


def _warn_unencrypted(path: str, passphrase_env: str) -> None:
    """Once per key file and process: a passphrase is configured, yet the key on disk is not encrypted."""
    if str(path) in _WARNED_UNENCRYPTED:
        return
    _WARNED_UNENCRYPTED.add(str(path))
    log.warning(
        "provlineage: private key %s is not encrypted, though passphrase_env=%s is configured; encrypt it "
        "(provlineage keygen --passphrase-env %s) or stop configuring a passphrase",
        path,
        passphrase_env,
        passphrase_env,
    )


def _read_pem(path: str, role: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise KeyLoadError(
            f"{role} key file {path} does not exist", "check the path, or create a key pair with `provlineage keygen`"
        ) from None
    except IsADirectoryError:
        raise KeyLoadError(
            f"{role} key file {path} is a directory",
            f"pass the PEM file inside it, e.g. {os.path.join(path, f'{role}_key.pem')}",
        ) from None
    except OSError as error:
        raise KeyLoadError(
            f"{role} key file {path} cannot be read ({error.strerror})", "check its permissions for this user"
        ) from None


def load_private_key(path: str | os.PathLike[str], *, passphrase_env: str | None = None) -> PrivateKey:
    """Load a PEM private key, decrypting it with the passphrase in ``$passphrase_env`` when it is encrypted."""
    path = os.fspath(path)
    data = _read_pem(path, "private")
    if b"PRIVATE KEY" not in data:
        if b"PUBLIC KEY" in data:
            raise KeyLoadError(
                f"{path} holds a public key where a private key is needed",
                f"point private_key at the signing key ({PRIVATE_KEY_FILE}), not {os.path.basename(path)}",
            )
        raise KeyLoadError(f"{path} is not a PEM private key", "pass a key written by `provlineage keygen`")
    encrypted = b"ENCRYPTED" in data
    if not encrypted and passphrase_env:
        _warn_unencrypted(path, passphrase_env)
    passphrase = read_passphrase(passphrase_env) if encrypted else None
    if encrypted and passphrase is None:
        raise KeyLoadError(
            f"private key {path} is encrypted and no passphrase was given",
            "set passphrase_env (or --passphrase-env) to the name of the variable that holds the passphrase",
        )
    from cryptography.hazmat.primitives import serialization  # signing only: verify does not pay for it

    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except ValueError as error:
        if encrypted:
            raise KeyLoadError(
                f"wrong passphrase for private key {path}", f"check the value of ${passphrase_env}"
            ) from None
        raise KeyLoadError(
            f"{path} is not a valid PEM private key ({error})", "regenerate it with `provlineage keygen`"
        ) from None
    except (TypeError, UnsupportedAlgorithm) as error:
        raise KeyLoadError(
            f"cannot load private key {path} ({error})", "use an unencrypted or PKCS#8-encrypted PEM key"
        ) from None
    signature_algorithm(key)  # rejects unsupported key types with a clear message
    return key  # type: ignore[return-value]


def load_public_key(path: str | os.PathLike[str]) -> PublicKey:
    """Load a PEM public key (SubjectPublicKeyInfo)."""
    path = os.fspath(path)
    data = _read_pem(path, "public")
    if b"PRIVATE KEY" in data:
        raise KeyLoadError(
            f"{path} holds a private key where a public key is needed",
            f"pass the public key ({PUBLIC_KEY_FILE}); verifiers never need the private key",
        )
    try:
        key = _load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as error:
        raise KeyLoadError(
            f"{path} is not a PEM public key ({error})", f"pass the {PUBLIC_KEY_FILE} written by `provlineage keygen`"
        ) from None
    signature_algorithm(key)  # type: ignore[arg-type]
    return key  # type: ignore[return-value]


class Keyring:
    """The public keys a verifier trusts, by key id (rotation = several keys)."""

    def __init__(self, keys: list[PublicKey] | None = None) -> None:
        self._keys: dict[str, PublicKey] = {}
        self._pems: list[bytes] = []
        for key in keys or []:
            self.add(key)

    @classmethod
    def from_files(cls, paths: list[str | os.PathLike[str]]) -> Keyring:
        return cls([load_public_key(path) for path in paths])

    @classmethod
    def from_pems(cls, pems: list[bytes]) -> Keyring:
        return cls([_load_pem_public_key(pem) for pem in pems])

    def add(self, key: PublicKey) -> str:
        kid = key_id(key)
        if kid not in self._keys:
            self._keys[kid] = key
            self._pems.append(key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
        return kid

    def get(self, kid: str) -> PublicKey | None:
        return self._keys.get(kid)

    def rsa_keys(self) -> list[rsa.RSAPublicKey]:
        return [key for key in self._keys.values() if isinstance(key, rsa.RSAPublicKey)]

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    @property
    def pems(self) -> list[bytes]:
        """PEM of every key, to rebuild the ring in a worker process."""
        return list(self._pems)

    def __len__(self) -> int:
        return len(self._keys)
