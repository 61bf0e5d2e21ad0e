"""Issue 14 item 5: key files cannot make the server run a costly KDF, and no half of a key file is weak.

The attack: a 1.3 KB key file whose PKCS#8 PEM asks for 40 M PBKDF2 rounds,
posted to ``/auth/recover`` (no login needed) or ``/auth/unlock``, held a
gunicorn worker for 17 s. And a version-1 file's PEM half fell to 2,048
PBKDF2 rounds (1.3 ms a guess) while its keystore half cost 2.6 s.
"""
from __future__ import annotations

import base64
import io
import json

import pytest
from auth_helpers import PASSPHRASE, PASSWORD, pkcs8_pem, v1_key_file
from sqlalchemy import func, select
from web_helpers import tally

from phr import custody, db, vault
from phr.models import LoginFailure, User

FAST, STRONG = custody.KDF_PROFILES["fast"], custody.KDF_PROFILES["strong"]
ATTACK_ROUNDS = 40_000_000
NEW_PASSWORD = "a brand new password"


def _self_held(auth, app, email="sam@example.org"):
    """Register a self-held patient; returns (account, their keys as opened from the kit's key file)."""
    account = auth.register_patient(email, custody_mode="self")
    with app.app_context():
        user = db.session().execute(select(User).where(User.email == email)).scalar_one()
        bundle = custody.import_key_file(account.key_file, PASSPHRASE, user.rsa_public_pem, user.eth_address)
    return account, bundle


def _recover_with_file(auth, email, key_file, passphrase=PASSPHRASE):
    return auth.post("/auth/recover", {"email": email, "passphrase": passphrase, "new_password": NEW_PASSWORD,
                                       "confirm": NEW_PASSWORD, "key_file": (io.BytesIO(key_file), "keys.json")},
                     content_type="multipart/form-data")


def _failures(app) -> int:
    with app.app_context():
        return db.session().execute(select(func.count()).select_from(LoginFailure)).scalar_one()


def test_a_key_file_asking_40m_pbkdf2_rounds_is_refused_before_any_kdf(auth, other_auth, app, kdf_runs, sweep):
    account, bundle = _self_held(auth, app)
    auth.logout()
    attack = v1_key_file(bundle, PASSPHRASE, account.email, pem=pkcs8_pem(ATTACK_ROUNDS))
    assert len(attack) < 8 * 1024
    kdf_runs.clear()
    # Anonymous: the recovery page.
    resp = _recover_with_file(auth, account.email, attack)
    assert resp.status_code == 400, resp.status_code
    assert "This is not a PHR key file" in resp.get_data(as_text=True)
    assert not kdf_runs, kdf_runs  # refused by reading the file: no PBKDF2, scrypt or Argon2 ran
    # Logged in, keys locked: the unlock page.
    other_auth.login(account.email)
    kdf_runs.clear()  # the login's own password check
    resp = other_auth.unlock(attack)
    assert resp.status_code == 400 and "This is not a PHR key file" in resp.get_data(as_text=True)
    assert not kdf_runs, kdf_runs
    assert _failures(app) == 0  # nothing else done either: not even a throttle count
    tally(sweep, "issue-14 attacks reproduced and stopped")


@pytest.mark.parametrize("craft", [
    pytest.param(lambda doc: doc["eth_keystore"]["crypto"]["kdfparams"].update(n=2**30), id="scrypt-n"),
    pytest.param(lambda doc: doc["eth_keystore"]["crypto"]["kdfparams"].update(r=4096), id="scrypt-r"),
    pytest.param(lambda doc: doc["eth_keystore"]["crypto"]["kdfparams"].update(p=64), id="scrypt-p"),
    pytest.param(lambda doc: doc["eth_keystore"]["crypto"]["kdfparams"].update(dklen=2**20), id="scrypt-dklen"),
    pytest.param(lambda doc: doc["eth_keystore"]["crypto"].update(
        kdf="pbkdf2", kdfparams={"c": ATTACK_ROUNDS, "dklen": 32, "prf": "hmac-sha256", "salt": "00" * 16}),
        id="keystore-pbkdf2"),
    pytest.param(lambda doc: doc.update(rsa_private_key=pkcs8_pem(ATTACK_ROUNDS).decode()), id="pem-rounds"),
    pytest.param(lambda doc: doc.update(rsa_private_key=pkcs8_pem(2049).decode()), id="pem-rounds-just-over"),
])
def test_every_kdf_cost_in_a_version_1_file_is_capped_before_work(app, craft, kdf_runs):
    bundle = custody.KeyBundle.generate()
    doc = json.loads(v1_key_file(bundle, PASSPHRASE, "u@example.org"))
    craft(doc)
    kdf_runs.clear()
    with pytest.raises(custody.KeyFileRefused, match="not a PHR key file"):
        custody.read_key_file(json.dumps(doc).encode())
    assert not kdf_runs


@pytest.mark.parametrize("header", [
    pytest.param((1024 * 1024, 3, 1), id="argon2-memory"),
    pytest.param((64 * 1024, 100, 1), id="argon2-passes"),
    pytest.param((64 * 1024, 3, 8), id="argon2-lanes"),
])
def test_every_kdf_cost_in_a_version_2_file_is_capped_before_work(app, header, kdf_runs):
    doc = json.loads(custody.export_key_file(custody.KeyBundle.generate(), PASSPHRASE, "u@example.org", STRONG))
    blob = bytearray(base64.b64decode(doc["keys"]))
    memory, passes, lanes = header
    blob[1:8] = memory.to_bytes(4, "big") + passes.to_bytes(2, "big") + bytes([lanes])
    doc["keys"] = base64.b64encode(bytes(blob)).decode()
    kdf_runs.clear()
    with pytest.raises(custody.KeyFileRefused):
        custody.read_key_file(json.dumps(doc).encode())
    assert not kdf_runs


def test_a_version_2_file_protects_both_keys_with_one_strong_kdf(app, kdf_runs, sweep):
    bundle = custody.KeyBundle.generate()
    data = custody.export_key_file(bundle, PASSPHRASE, "u@example.org", STRONG)
    doc = json.loads(data)
    # No PEM or keystore left to attack on its own: one blob holds both private keys.
    assert set(doc) == {"format", "version", "email", "rsa_fingerprint", "eth_address", "keys"}
    assert doc["version"] == 2
    assert vault.secret_kdf_params(base64.b64decode(doc["keys"])) == vault.KDF_STRONG
    kdf_runs.clear()
    with pytest.raises(custody.KeyFileError, match="passphrase is incorrect"):
        custody.open_key_file(custody.read_key_file(data), "a wrong guess")
    assert kdf_runs == {"argon2id": 1}  # a guess costs the production Argon2id, for the RSA and the eth key alike
    opened = custody.import_key_file(data, PASSPHRASE, bundle.public_pem.decode(), bundle.eth_address)
    assert opened.eth_private == bundle.eth_private
    assert kdf_runs == {"argon2id": 2}
    tally(sweep, "issue-14 attacks reproduced and stopped")


def test_a_version_1_file_still_opens_and_reissue_upgrades_it_to_version_2(auth, other_auth, app, kdf_runs):
    account, bundle = _self_held(auth, app)
    old = v1_key_file(bundle, PASSPHRASE, account.email)
    auth.logout()
    other_auth.login(account.email)
    kdf_runs.clear()
    assert other_auth.unlock(old).status_code == 303
    assert kdf_runs == {"pbkdf2": 1, "keystore scrypt": 1}  # 2,048 rounds and scrypt, both capped
    assert "Your key file is of an older kind" in other_auth.client.get("/auth/account").get_data(as_text=True)
    new = "another file passphrase"
    resp = other_auth.post("/auth/key-file", {"current_password": PASSWORD, "passphrase": new, "confirm": new})
    assert resp.status_code == 303
    reissued = other_auth.client.get("/auth/kit/key-file.json").data
    assert json.loads(reissued)["version"] == 2
    with app.app_context():
        assert custody.import_key_file(reissued, new, bundle.public_pem.decode(),
                                       bundle.eth_address).eth_private == bundle.eth_private
    # A version-1 file still recovers a forgotten password.
    other_auth.logout()
    assert _recover_with_file(other_auth, account.email, old).status_code == 303
    assert "Your key file is of an older kind" in other_auth.client.get("/auth/account").get_data(as_text=True)
    # A current file says nothing of the kind.
    other_auth.logout()
    other_auth.login(account.email, NEW_PASSWORD)
    assert other_auth.unlock(reissued, new).status_code == 303
    assert "older kind" not in other_auth.client.get("/auth/account").get_data(as_text=True)
