"""Cryptographic primitives: the only module that imports ``cryptography.hazmat``.

Modelled on Fernet: a few verbs, bytes in and bytes out, randomness made
inside, a version byte at the start of every blob, and one exception,
:class:`VaultError`, for every failure to unwrap or decrypt (which check
failed is never revealed).

Blobs (all integers big-endian):

* record envelope  ``0x01 | nonce(12) | AES-256-GCM(data_key, plaintext, aad) + tag(16)``
* wrapped data key ``0x01 | RSA-OAEP-SHA256(reader_public_key, data_key, label=0x01|aad)``
  (the OAEP label binds a wrapped key to its record: moved to another record, it fails)
* password-wrapped ``0x01 | memory_kib(4) | iterations(2) | lanes(1) | salt(16) | nonce(12) | AES-256-GCM``
  with the key from Argon2id(password, salt); the header is authenticated as AAD
* key-wrapped      ``0x01 | nonce(12) | AES-256-GCM(key32, secret, aad)``
* legacy PEM       PKCS#8 ``EncryptedPrivateKeyInfo``: PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC
  (what key files of version 1 hold; only read, never written any more)

Every cost parameter read from a blob or a file is checked against what this
platform writes before any key derivation runs: a crafted input cannot make
the server spend more work than opening a genuine one.
"""
from __future__ import annotations

import base64
import binascii
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import padding as block_padding
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

PrivateKey = rsa.RSAPrivateKey
PublicKey = rsa.RSAPublicKey

RSA_KEY_BITS = 3072
RSA_PUBLIC_EXPONENT = 65537
DATA_KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
TAG_BYTES = 16
SALT_BYTES = 16

ENVELOPE_V1 = 0x01
WRAPPED_KEY_V1 = 0x01
SECRET_V1 = 0x01
KEY_WRAP_V1 = 0x01
_SECRET_HEADER_BYTES = 1 + 4 + 2 + 1 + SALT_BYTES

# Legacy PEMs: PKCS#8 as `BestAvailableEncryption` wrote it (2,048 PBKDF2 rounds); nothing costlier is run.
LEGACY_PEM_MAX_ITERATIONS = 2048
_OID_PBES2 = bytes.fromhex("06092a864886f70d01050d")
_OID_PBKDF2 = bytes.fromhex("06092a864886f70d01050c")
_PRF_HMAC_SHA256 = bytes.fromhex("300c06082a864886f70d02090500")  # AlgorithmIdentifier hmacWithSHA256, NULL
_OID_AES256_CBC = bytes.fromhex("060960864801650304012a")
_DER_SEQUENCE, _DER_OCTETS, _DER_INTEGER = 0x30, 0x04, 0x02


class VaultError(Exception):
    """A blob could not be unwrapped or decrypted (wrong key, wrong password, tampered, malformed)."""


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters; stored in every password-wrapped blob."""

    memory_kib: int
    iterations: int
    lanes: int


# Production default: 64 MiB, 3 passes, 1 lane (RFC 9106 second recommendation, ~0.2 s here).
KDF_STRONG = KdfParams(memory_kib=64 * 1024, iterations=3, lanes=1)
# For the test suite only (chosen through the app's KDF_PROFILE, refused unless TESTING).
KDF_FAST = KdfParams(memory_kib=64, iterations=1, lanes=1)
# The costliest parameters accepted when unwrapping: what the platform writes. A blob asking for more is
# refused before any work is done, so a crafted blob (an uploaded key file) cannot exhaust the server.
KDF_MAX = KDF_STRONG


@dataclass(frozen=True)
class LegacyPem:
    """A PKCS#8 ``EncryptedPrivateKeyInfo`` in the one form this platform wrote, its cost checked."""

    salt: bytes
    iterations: int
    iv: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class Sealed:
    """A sealed record: one bulk ciphertext, and its data key wrapped once per reader id."""

    ciphertext: bytes
    wrapped_keys: dict[str, bytes]


# ----- RSA keys ----------------------------------------------------------------
def generate_rsa_key() -> PrivateKey:
    """A fresh 3072-bit RSA private key (used with OAEP-SHA256)."""
    return rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=RSA_KEY_BITS)


def public_pem(private_key: PrivateKey) -> bytes:
    """The SubjectPublicKeyInfo PEM of ``private_key``."""
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_pem(data: bytes) -> PublicKey:
    """Parse an RSA public key PEM; ``ValueError`` if it is malformed or not RSA."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a PEM-encoded public key") from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < RSA_KEY_BITS:
        raise ValueError(f"not an RSA public key of at least {RSA_KEY_BITS} bits")
    return key


def fingerprint(public_key_pem: bytes) -> str:
    """SHA-256 of the key's SubjectPublicKeyInfo DER, as 16 space-separated groups of 4 hex digits."""
    der = load_public_pem(public_key_pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hexed = digest(der).hex()
    return " ".join(hexed[i:i + 4] for i in range(0, len(hexed), 4))


def private_der(private_key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8 DER of ``private_key``: only ever pass it straight to a ``wrap_*`` verb."""
    return private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_der(data: bytes, *, authenticated: bool = False) -> PrivateKey:
    """Parse unencrypted PKCS#8 DER; ``ValueError`` if it is malformed or not RSA.

    ``authenticated=True`` skips OpenSSL's RSA consistency check (≈130 ms for a
    3072-bit key). Pass it only for bytes that just passed AES-GCM authentication
    under a key this platform wrapped them with — i.e. bytes :func:`private_der`
    produced from a key that was checked when it was generated or imported.
    """
    try:
        key = serialization.load_der_private_key(data, password=None, unsafe_skip_rsa_key_validation=authenticated)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a PKCS#8 DER private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")  # noqa: TRY004 - callers catch ValueError: "not our key"
    return key


def parse_legacy_pem(data: bytes) -> LegacyPem:
    """Read a PEM of :class:`LegacyPem` without deriving anything; ``ValueError`` if it is another form or costlier.

    Only PBES2 with PBKDF2-HMAC-SHA256 (at most :data:`LEGACY_PEM_MAX_ITERATIONS`
    rounds) and AES-256-CBC is accepted, as strict DER with nothing around it.
    """
    head, foot = b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"-----END ENCRYPTED PRIVATE KEY-----"
    text = data.strip()
    if not (text.startswith(head) and text.endswith(foot)) or text.count(b"-----") != 4:
        raise ValueError("not one encrypted PKCS#8 PEM")
    try:
        der = base64.b64decode(b"".join(text[len(head):-len(foot)].split()), validate=True)
    except binascii.Error as exc:
        raise ValueError("not an encrypted PKCS#8 PEM") from exc
    info = _der_last(der, _DER_SEQUENCE)
    algorithm, info = _der(info, _DER_SEQUENCE)
    ciphertext = _der_last(info, _DER_OCTETS)
    params = _der_last(_after(algorithm, _OID_PBES2), _DER_SEQUENCE)
    kdf, params = _der(params, _DER_SEQUENCE)
    scheme = _der_last(params, _DER_SEQUENCE)
    kdf = _der_last(_after(kdf, _OID_PBKDF2), _DER_SEQUENCE)
    salt, kdf = _der(kdf, _DER_OCTETS)
    rounds, prf = _der(kdf, _DER_INTEGER)
    iv = _der_last(_after(scheme, _OID_AES256_CBC), _DER_OCTETS)
    if prf != _PRF_HMAC_SHA256:
        raise ValueError("not the PKCS#8 encryption this platform writes")
    if not rounds or len(rounds) > 4 or rounds[0] & 0x80 or (rounds[0] == 0 and len(rounds) > 1):
        raise ValueError("not a PBKDF2 round count")
    iterations = int.from_bytes(rounds, "big")
    if not 1 <= iterations <= LEGACY_PEM_MAX_ITERATIONS or not 8 <= len(salt) <= 64 or len(iv) != 16:
        raise ValueError("PKCS#8 encryption parameters outside what this platform writes")
    if not ciphertext or len(ciphertext) % 16:
        raise ValueError("not an AES-CBC ciphertext")
    return LegacyPem(salt, iterations, iv, ciphertext)


def open_legacy_pem(pem: LegacyPem, passphrase: str) -> PrivateKey:
    """Decrypt a :func:`parse_legacy_pem` result; ``VaultError`` on a wrong passphrase or bad data."""
    key = _pbkdf2(passphrase, pem.salt, pem.iterations)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(pem.iv)).decryptor()
    unpadder = block_padding.PKCS7(128).unpadder()
    try:
        der = unpadder.update(decryptor.update(pem.ciphertext) + decryptor.finalize()) + unpadder.finalize()
        return load_private_der(der)
    except ValueError as exc:  # bad padding or not a key: a wrong passphrase, most likely
        raise VaultError("cannot open private key") from exc


def _der(data: bytes, tag: int) -> tuple[bytes, bytes]:
    """The contents of the DER element with ``tag`` at the start of ``data``, and what follows it."""
    if len(data) < 2 or data[0] != tag:
        raise ValueError("unexpected DER")
    length, start = data[1], 2
    if length & 0x80:
        size = length & 0x7F
        if not 1 <= size <= 2 or len(data) < 2 + size or data[2] == 0:
            raise ValueError("unexpected DER length")
        length, start = int.from_bytes(data[2:2 + size], "big"), 2 + size
        if length < 0x80:
            raise ValueError("unexpected DER length")
    if len(data) < start + length:
        raise ValueError("truncated DER")
    return data[start:start + length], data[start + length:]


def _der_last(data: bytes, tag: int) -> bytes:
    """The contents of the DER element with ``tag`` that must be all of ``data``."""
    contents, rest = _der(data, tag)
    if rest:
        raise ValueError("trailing DER")
    return contents


def _after(data: bytes, prefix: bytes) -> bytes:
    """What follows the exact DER ``prefix`` (an OID) that ``data`` must begin with."""
    if not data.startswith(prefix):
        raise ValueError("unexpected algorithm")
    return data[len(prefix):]


# ----- record envelopes --------------------------------------------------------
def seal(plaintext: bytes, aad: bytes, readers: Mapping[str, PublicKey]) -> Sealed:
    """Encrypt ``plaintext`` under a fresh data key bound to ``aad``; wrap that key for each reader.

    ``aad`` names the record (e.g. ``b"phr-record:v1:" + record_id``): the
    ciphertext and every wrapped key open only with the same ``aad``.
    """
    data_key = AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)
    ciphertext = _encrypt_envelope(data_key, os.urandom(NONCE_BYTES), plaintext, aad)
    return Sealed(ciphertext, {rid: _wrap_data_key(data_key, pub, aad) for rid, pub in readers.items()})


def open_sealed(ciphertext: bytes, wrapped_key: bytes, private_key: PrivateKey, aad: bytes) -> bytes:
    """Decrypt a sealed record with the reader's wrapped key and private key; ``VaultError`` on any failure."""
    return _open_envelope(_unwrap_data_key(wrapped_key, private_key, aad), ciphertext, aad)


def rewrap(wrapped_key: bytes, owner_private_key: PrivateKey, reader_public_key: PublicKey, aad: bytes) -> bytes:
    """Grant: unwrap a record's data key with the owner's key and wrap it for another reader.

    The bulk ciphertext is not touched. ``VaultError`` if the owner's wrapped key does not open.
    """
    return _wrap_data_key(_unwrap_data_key(wrapped_key, owner_private_key, aad), reader_public_key, aad)


def _encrypt_envelope(data_key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Envelope with a given key and nonce; public callers go through :func:`seal` (tests use this for vectors)."""
    return bytes([ENVELOPE_V1]) + nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)


def _open_envelope(data_key: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    if len(ciphertext) < 1 + NONCE_BYTES + TAG_BYTES or ciphertext[0] != ENVELOPE_V1:
        raise VaultError("cannot open record")
    nonce, body = ciphertext[1:1 + NONCE_BYTES], ciphertext[1 + NONCE_BYTES:]
    try:
        return AESGCM(data_key).decrypt(nonce, body, aad)
    except InvalidTag as exc:
        raise VaultError("cannot open record") from exc


def _oaep(aad: bytes) -> padding.OAEP:
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()),
        algorithm=hashes.SHA256(),
        label=bytes([WRAPPED_KEY_V1]) + aad,
    )


def _wrap_data_key(data_key: bytes, public_key: PublicKey, aad: bytes) -> bytes:
    return bytes([WRAPPED_KEY_V1]) + public_key.encrypt(data_key, _oaep(aad))


def _unwrap_data_key(wrapped_key: bytes, private_key: PrivateKey, aad: bytes) -> bytes:
    if not wrapped_key or wrapped_key[0] != WRAPPED_KEY_V1:
        raise VaultError("cannot open record")
    try:
        data_key = private_key.decrypt(wrapped_key[1:], _oaep(aad))
    except ValueError as exc:
        raise VaultError("cannot open record") from exc
    if len(data_key) != DATA_KEY_BYTES:
        raise VaultError("cannot open record")
    return data_key


# ----- secrets under a password or a key ---------------------------------------
def wrap_secret(secret: bytes, password: str, aad: bytes = b"", params: KdfParams = KDF_STRONG) -> bytes:
    """Encrypt ``secret`` under a key derived from ``password`` with Argon2id (salt and parameters inside)."""
    if not password:
        raise ValueError("password must not be empty")
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    header = (
        bytes([SECRET_V1])
        + params.memory_kib.to_bytes(4, "big")
        + params.iterations.to_bytes(2, "big")
        + params.lanes.to_bytes(1, "big")
        + salt
    )
    key = _derive(password, salt, params)
    return header + nonce + AESGCM(key).encrypt(nonce, secret, header + aad)


def unwrap_secret(blob: bytes, password: str, aad: bytes = b"") -> bytes:
    """Reverse :func:`wrap_secret`; ``VaultError`` on a wrong password, other ``aad``, tampering.

    Also ``VaultError``, before any work, if the blob asks for costs over :data:`KDF_MAX`.
    """
    try:
        params = secret_kdf_params(blob)
    except ValueError as exc:
        raise VaultError("cannot unwrap secret") from exc
    header_len = _SECRET_HEADER_BYTES
    header, salt = blob[:header_len], blob[8:header_len]
    nonce, body = blob[header_len:header_len + NONCE_BYTES], blob[header_len + NONCE_BYTES:]
    try:
        return AESGCM(_derive(password, salt, params)).decrypt(nonce, body, header + aad)
    except InvalidTag as exc:
        raise VaultError("cannot unwrap secret") from exc


def secret_kdf_params(blob: bytes) -> KdfParams:
    """The Argon2id parameters of a :func:`wrap_secret` blob, read without deriving anything.

    ``ValueError`` if the blob is malformed or asks for more than :data:`KDF_MAX` in any parameter.
    """
    if len(blob) < _SECRET_HEADER_BYTES + NONCE_BYTES + TAG_BYTES or blob[0] != SECRET_V1:
        raise ValueError("not a password-wrapped secret")
    params = KdfParams(
        memory_kib=int.from_bytes(blob[1:5], "big"),
        iterations=int.from_bytes(blob[5:7], "big"),
        lanes=blob[7],
    )
    if not (1 <= params.lanes <= KDF_MAX.lanes and 1 <= params.iterations <= KDF_MAX.iterations
            and 8 * params.lanes <= params.memory_kib <= KDF_MAX.memory_kib):
        raise ValueError("Argon2id parameters outside what this platform writes")
    return params


def spend_unwrap_work(password: str, params: KdfParams) -> None:
    """Derive (and drop) one key as :func:`unwrap_secret` would: equal work when there is nothing to unwrap."""
    _derive(password, os.urandom(SALT_BYTES), params)


def generate_key() -> bytes:
    """A fresh random 32-byte key for :func:`wrap_with_key`."""
    return AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)


def wrap_with_key(secret: bytes, key: bytes, aad: bytes = b"") -> bytes:
    """Encrypt ``secret`` under a random 32-byte ``key`` (AES-256-GCM); ``ValueError`` on a bad key length."""
    _check_key(key)
    nonce = os.urandom(NONCE_BYTES)
    return bytes([KEY_WRAP_V1]) + nonce + AESGCM(key).encrypt(nonce, secret, aad)


def unwrap_with_key(blob: bytes, key: bytes, aad: bytes = b"") -> bytes:
    """Reverse :func:`wrap_with_key`; ``VaultError`` on a wrong key, other ``aad`` or tampering."""
    _check_key(key)
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[0] != KEY_WRAP_V1:
        raise VaultError("cannot unwrap secret")
    try:
        return AESGCM(key).decrypt(blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise VaultError("cannot unwrap secret") from exc


def digest(data: bytes) -> bytes:
    """SHA-256 of ``data``."""
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    return h.finalize()


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != DATA_KEY_BYTES:
        raise ValueError(f"key must be {DATA_KEY_BYTES} bytes")


def _password_bytes(password: str) -> bytes:
    # NFC so the same password typed on different keyboards/OSes gives the same bytes.
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _pbkdf2(password: str, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=DATA_KEY_BYTES, salt=salt,
                      iterations=iterations).derive(_password_bytes(password))


def _derive(password: str, salt: bytes, params: KdfParams) -> bytes:
    return Argon2id(
        salt=salt,
        length=DATA_KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    ).derive(_password_bytes(password))
