"""phr.vault: envelopes, wrapped data keys, password- and key-wrapped secrets."""
from __future__ import annotations

from pathlib import Path

import pytest

from phr import vault

RECORD_A = b"phr-record:v1:rec-a"
RECORD_B = b"phr-record:v1:rec-b"
BUNDLE = b'{"resourceType": "Bundle", "type": "collection", "entry": []}'


@pytest.fixture(scope="module")
def owner():
    return vault.generate_rsa_key()


@pytest.fixture(scope="module")
def reader():
    return vault.generate_rsa_key()


@pytest.fixture(scope="module")
def sealed(owner):
    return vault.seal(BUNDLE, RECORD_A, {"owner": owner.public_key()})


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def test_seal_round_trip_with_a_fresh_key_and_nonce_each_time(owner, sealed):
    assert vault.open_sealed(sealed.ciphertext, sealed.wrapped_keys["owner"], owner, RECORD_A) == BUNDLE
    again = vault.seal(BUNDLE, RECORD_A, {"owner": owner.public_key()})
    assert again.ciphertext != sealed.ciphertext
    assert again.ciphertext[0] == vault.ENVELOPE_V1 and again.wrapped_keys["owner"][0] == vault.WRAPPED_KEY_V1
    assert BUNDLE not in sealed.ciphertext


@pytest.mark.parametrize("where", ["version", "nonce", "body", "tag"])
def test_flipped_byte_in_envelope_is_refused(owner, sealed, where):
    index = {"version": 0, "nonce": 5, "body": 1 + vault.NONCE_BYTES + 3, "tag": -1}[where]
    with pytest.raises(vault.VaultError):
        vault.open_sealed(flip(sealed.ciphertext, index), sealed.wrapped_keys["owner"], owner, RECORD_A)


@pytest.mark.parametrize("index", [0, 1, 200, -1])
def test_flipped_byte_in_wrapped_key_is_refused(owner, sealed, index):
    with pytest.raises(vault.VaultError):
        vault.open_sealed(sealed.ciphertext, flip(sealed.wrapped_keys["owner"], index), owner, RECORD_A)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + b"\0" * 20])
def test_truncated_envelope_is_refused(owner, sealed, blob):
    with pytest.raises(vault.VaultError):
        vault.open_sealed(blob, sealed.wrapped_keys["owner"], owner, RECORD_A)


def test_wrong_private_key_is_refused_with_the_same_error(reader, sealed):
    with pytest.raises(vault.VaultError):
        vault.open_sealed(sealed.ciphertext, sealed.wrapped_keys["owner"], reader, RECORD_A)


def test_ciphertext_moved_to_another_record_id_is_refused(owner, sealed):
    # Same data key wrapped for record B: only the AAD binding of the bulk ciphertext can stop this.
    data_key = vault._unwrap_data_key(sealed.wrapped_keys["owner"], owner, RECORD_A)
    wrapped_for_b = vault._wrap_data_key(data_key, owner.public_key(), RECORD_B)
    with pytest.raises(vault.VaultError):
        vault.open_sealed(sealed.ciphertext, wrapped_for_b, owner, RECORD_B)


def test_wrapped_key_moved_to_another_record_is_refused(owner, sealed):
    with pytest.raises(vault.VaultError):
        vault.open_sealed(sealed.ciphertext, sealed.wrapped_keys["owner"], owner, RECORD_B)
    other = vault.seal(b"record B", RECORD_B, {"owner": owner.public_key()})
    with pytest.raises(vault.VaultError):
        vault.open_sealed(other.ciphertext, sealed.wrapped_keys["owner"], owner, RECORD_B)


def test_rewrap_grants_a_reader_without_touching_the_ciphertext(owner, reader, sealed):
    before = bytes(sealed.ciphertext)
    for_reader = vault.rewrap(sealed.wrapped_keys["owner"], owner, reader.public_key(), RECORD_A)
    assert vault.open_sealed(sealed.ciphertext, for_reader, reader, RECORD_A) == BUNDLE
    assert sealed.ciphertext == before
    with pytest.raises(vault.VaultError):  # the reader cannot grant with the owner's wrapped key
        vault.rewrap(sealed.wrapped_keys["owner"], reader, reader.public_key(), RECORD_A)


def test_envelope_matches_the_gcm_spec_test_vector():
    # McGrew & Viega, "The Galois/Counter Mode of Operation", Test Case 16 (AES-256, 60-byte P, 20-byte A).
    key = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    iv = bytes.fromhex("cafebabefacedbaddecaf888")
    plaintext = bytes.fromhex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
    aad = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    ct = bytes.fromhex(
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662")
    tag = bytes.fromhex("76fc6ece0f4e1768cddf8853bb2d551b")
    envelope = vault._encrypt_envelope(key, iv, plaintext, aad)
    assert envelope == b"\x01" + iv + ct + tag
    assert vault._open_envelope(key, envelope, aad) == plaintext


def test_secret_under_password_round_trip_and_wrong_password():
    blob = vault.wrap_secret(b"key bundle", "pässword", b"ctx", vault.KDF_FAST)
    assert vault.unwrap_secret(blob, "pässword", b"ctx") == b"key bundle"
    for password, aad in [("password", b"ctx"), ("pässword", b"other"), ("", b"ctx")]:
        with pytest.raises(vault.VaultError):
            vault.unwrap_secret(blob, password, aad)


def test_password_blob_carries_salt_and_parameters_and_they_are_authenticated():
    a = vault.wrap_secret(b"s", "pw", params=vault.KDF_FAST)
    b = vault.wrap_secret(b"s", "pw", params=vault.KDF_FAST)
    assert a[8:24] != b[8:24]  # fresh salt inside each blob
    assert int.from_bytes(a[1:5], "big") == vault.KDF_FAST.memory_kib
    for index in (0, 4, 6, 7, 10, -1):  # version, memory, iterations, lanes, salt, tag
        with pytest.raises(vault.VaultError):
            vault.unwrap_secret(flip(a, index), "pw")


def test_unwrap_refuses_absurd_kdf_parameters_without_running_them():
    blob = bytearray(vault.wrap_secret(b"s", "pw", params=vault.KDF_FAST))
    blob[1:5] = (64 * 1024 * 1024).to_bytes(4, "big")  # 64 GiB
    with pytest.raises(vault.VaultError):
        vault.unwrap_secret(bytes(blob), "pw")


def test_production_kdf_default_is_memory_hard():
    assert vault.KDF_STRONG.memory_kib >= 64 * 1024 and vault.KDF_STRONG.iterations >= 3


def test_secret_under_key_round_trip_wrong_key_and_bad_key_length():
    key = vault.generate_key()
    blob = vault.wrap_with_key(b"bundle", key, b"session-1")
    assert vault.unwrap_with_key(blob, key, b"session-1") == b"bundle"
    with pytest.raises(vault.VaultError):
        vault.unwrap_with_key(blob, vault.generate_key(), b"session-1")
    with pytest.raises(vault.VaultError):
        vault.unwrap_with_key(blob, key, b"session-2")
    with pytest.raises(vault.VaultError):
        vault.unwrap_with_key(flip(blob, 3), key, b"session-1")
    with pytest.raises(ValueError, match="32 bytes"):
        vault.wrap_with_key(b"bundle", b"short")


def test_public_key_pem_and_fingerprint(owner):
    pem = vault.public_pem(owner)
    assert vault.load_public_pem(pem).public_numbers() == owner.public_key().public_numbers()
    fp = vault.fingerprint(pem)
    groups = fp.split(" ")
    assert len(groups) == 16 and all(len(g) == 4 for g in groups)
    assert fp.replace(" ", "") != vault.fingerprint(vault.public_pem(vault.generate_rsa_key())).replace(" ", "")


@pytest.mark.parametrize("bad", [b"", b"not a key", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"])
def test_malformed_public_key_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="public key"):
        vault.load_public_pem(bad)


def test_legacy_pkcs8_pem_opens_only_with_its_passphrase_and_capped_rounds(owner):
    from cryptography.hazmat.primitives import (
        serialization,  # the exporter of version-1 key files
    )
    pem = owner.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.BestAvailableEncryption(b"a long passphrase"))
    parsed = vault.parse_legacy_pem(pem)
    assert parsed.iterations == vault.LEGACY_PEM_MAX_ITERATIONS
    assert vault.open_legacy_pem(parsed, "a long passphrase").private_numbers() == owner.private_numbers()
    with pytest.raises(vault.VaultError):
        vault.open_legacy_pem(parsed, "wrong passphrase")
    for bad in (pem + pem, pem.replace(b"ENCRYPTED ", b""), pem[:200] + pem[210:], b"", b"\xff" * 64):
        with pytest.raises(ValueError):
            vault.parse_legacy_pem(bad)


def test_digest_is_sha256():
    assert vault.digest(b"abc").hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_vault_is_the_only_module_importing_hazmat():
    package = Path(vault.__file__).parent
    users = {p.relative_to(package).as_posix() for p in package.rglob("*.py") if "cryptography.hazmat" in p.read_text()}
    assert users == {"vault.py"}
