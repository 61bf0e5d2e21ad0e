"""phr.custody: key bundles, key files, recovery codes and key sessions."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from phr import custody, db, vault
from phr.models import KeySession, User

FAST = custody.KDF_PROFILES["fast"]


@pytest.fixture(scope="module")
def bundle() -> custody.KeyBundle:
    return custody.KeyBundle.generate()


@pytest.fixture
def user(app, bundle):
    with app.app_context():
        u = User(email="u@example.org", role="patient", display_name="U", custody="platform", password_hash="x",
                 rsa_public_pem=bundle.public_pem.decode(), eth_address=bundle.eth_address)
        db.session().add(u)
        db.session().commit()
        return u.id


def test_bundle_round_trips_and_proves_its_public_identity(bundle):
    again = custody.KeyBundle.from_bytes(bundle.to_bytes())
    assert again.eth_private == bundle.eth_private and again.public_pem == bundle.public_pem
    assert again.matches(bundle.public_pem.decode(), bundle.eth_address)
    stranger = custody.KeyBundle.generate()
    assert not stranger.matches(bundle.public_pem.decode(), bundle.eth_address)
    assert not custody.KeyBundle(bundle.rsa_private, stranger.eth_private).matches(
        bundle.public_pem.decode(), bundle.eth_address)


def test_recovery_code_has_160_bits_and_tolerates_how_people_type_it(bundle):
    code = custody.new_recovery_code()
    groups = code.split("-")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)  # 32 base32 chars = 160 bits
    assert code != custody.new_recovery_code()
    blob = custody.wrap_for_recovery(bundle, code, FAST)
    typed = " " + code.replace("-", "").lower().replace("o", "0") + " "
    assert custody.unwrap_with_recovery(blob, typed).eth_private == bundle.eth_private
    for wrong in ("", custody.new_recovery_code()):
        with pytest.raises(vault.VaultError):
            custody.unwrap_with_recovery(blob, wrong)


def test_password_and_recovery_blobs_are_not_interchangeable(bundle):
    blob = custody.wrap_for_recovery(bundle, "SAME-SECRET", FAST)
    with pytest.raises(vault.VaultError):
        custody.unwrap_with_password(blob, "SAME-SECRET")


def test_key_file_holds_encrypted_keys_and_opens_only_with_its_passphrase(bundle):
    data = custody.export_key_file(bundle, "file passphrase!", "u@example.org", FAST)
    doc = json.loads(data)
    assert doc["version"] == 2 and doc["eth_address"] == bundle.eth_address
    assert bundle.eth_private.hex() not in data.decode() and b"PRIVATE KEY" not in data
    opened = custody.import_key_file(data, "file passphrase!", bundle.public_pem.decode(), bundle.eth_address)
    assert opened.eth_private == bundle.eth_private
    with pytest.raises(custody.KeyFileError, match="passphrase is incorrect"):
        custody.import_key_file(data, "wrong passphrase", bundle.public_pem.decode(), bundle.eth_address)
    other = custody.KeyBundle.generate()
    with pytest.raises(custody.KeyFileError, match="another account"):
        custody.import_key_file(data, "file passphrase!", other.public_pem.decode(), other.eth_address)


@pytest.mark.parametrize("data", [b"", b"[]", b'{"format": "phr-key-file"}', b"\xff\xfe"])
def test_garbage_key_file_is_refused_clearly(bundle, data):
    with pytest.raises(custody.KeyFileError, match="not a PHR key file"):
        custody.import_key_file(data, "x", bundle.public_pem.decode(), bundle.eth_address)


def test_key_session_unlocks_only_with_its_secret_and_not_after_expiry(app, user, bundle):
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    with app.app_context():
        sid, secret = custody.open_key_session(user, bundle, now=t0, absolute=timedelta(hours=12))
        assert custody.unlocked_keys(sid, secret, now=t0).eth_private == bundle.eth_private
        with pytest.raises(custody.KeysLocked):
            custody.unlocked_keys(sid, vault.generate_key(), now=t0)
        # Used every 20 minutes, it stays alive past the 30-minute idle limit...
        for minutes in (20, 40, 60):
            assert custody.unlocked_keys(sid, secret, now=t0 + timedelta(minutes=minutes))
        # ...but 31 idle minutes end it, and the row is gone.
        with pytest.raises(custody.KeysLocked):
            custody.unlocked_keys(sid, secret, now=t0 + timedelta(minutes=60 + 31))
        assert db.session().get(KeySession, sid) is None


def test_key_session_ends_at_its_absolute_limit_even_when_busy(app, user, bundle):
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    with app.app_context():
        sid, secret = custody.open_key_session(user, bundle, now=t0, absolute=timedelta(hours=1))
        for minutes in range(10, 60, 10):
            custody.unlocked_keys(sid, secret, now=t0 + timedelta(minutes=minutes))
        with pytest.raises(custody.KeysLocked):
            custody.unlocked_keys(sid, secret, now=t0 + timedelta(minutes=60))
        assert not custody.live_key_session(sid, user, now=t0 + timedelta(minutes=60))


def test_key_session_ciphertext_is_bound_to_its_row(app, user, bundle):
    with app.app_context():
        sid_a, secret_a = custody.open_key_session(user, bundle)
        sid_b, _ = custody.open_key_session(user, bundle)
        dbs = db.session()
        dbs.get(KeySession, sid_b).ciphertext = dbs.get(KeySession, sid_a).ciphertext
        dbs.commit()
        with pytest.raises(custody.KeysLocked):  # right secret, ciphertext moved to another session
            custody.unlocked_keys(sid_b, secret_a)
