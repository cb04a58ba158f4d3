"""RSA key pairs for Snowflake key-pair sign-in: the public key goes into stack config, the private key into a hand-out.

The private key exists in exactly one place, the student's hand-out folder, so a rerun reads the public key back
from it instead of generating a new pair. `classroom rotate-keys` is the only way to replace it.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from pipeline.classroom.state import write_private
from pipeline.errors import ShopstreamError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

KEY_SIZE = 2048  # what Snowflake documents for key-pair authentication
PUBLIC_EXPONENT = 65537


def ensure_key_pair(path: Path, *, rotate: bool = False) -> str:
    """The public key of the pair stored at `path`, generating (or, with `rotate`, replacing) it first."""
    serialization, rsa = _cryptography()
    if path.exists() and not rotate:
        return public_key_of(_load_private_key(path))
    private_key = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=KEY_SIZE)
    pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    write_private(path, pem)
    return public_key_of(private_key)


def public_key_of(private_key: rsa.RSAPrivateKey) -> str:
    """The public key as Snowflake's RSA_PUBLIC_KEY wants it: base64 DER on one line, no PEM header or trailer."""
    serialization, _ = _cryptography()
    der = private_key.public_key().public_bytes(
        encoding=serialization.Encoding.DER, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def fingerprint(public_key: str) -> str:
    """Snowflake's RSA_PUBLIC_KEY_FP for a public key: `SHA256:` and the base64 SHA-256 of its DER bytes."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(base64.b64decode(public_key)).digest()).decode()


def _cryptography() -> tuple[ModuleType, ModuleType]:
    """The `cryptography` modules, imported on first use so the rest of the CLI runs without the infra extra."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:
        raise ShopstreamError("student key pairs need the infra extra: run `make install-all`") from None
    return serialization, rsa


def _load_private_key(path: Path) -> rsa.RSAPrivateKey:
    serialization, rsa = _cryptography()
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise ShopstreamError(f"{path} is not an unencrypted PEM key ({exc}): `classroom rotate-keys`") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ShopstreamError(f"{path} is not an RSA key; replace it with `classroom rotate-keys`")
    return key
