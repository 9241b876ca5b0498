"""Ed25519 public keys: thumbprint ids, validity periods, the forms `naervaer verify` reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from naervaer.dossier.canonical import from_b64url
from naervaer.dossier.keys import KeyRing, PublicKey, key_id_of, load_key_ring, raw_public_key, sign
from naervaer.dossier.trust import load_trusted_keys

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_key_id_is_the_rfc_7638_thumbprint() -> None:
    # RFC 8037, appendix A.3: the thumbprint of the example Ed25519 key.
    raw = from_b64url("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    assert key_id_of(raw) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_key_verifies_only_inside_its_validity() -> None:
    private = Ed25519PrivateKey.generate()
    key = PublicKey(raw_public_key(private.public_key()), T0, T0 + timedelta(days=30))
    ring = KeyRing([key])
    signature = sign(private, b"entry")
    assert ring.problem(key.key_id, b"entry", signature, T0 + timedelta(days=1)) is None
    late = ring.problem(key.key_id, b"entry", signature, T0 + timedelta(days=31))
    assert late is not None
    assert "not valid" in late
    assert ring.problem(key.key_id, b"other", signature, T0) is not None
    assert ring.problem("unknown", b"entry", signature, T0) == "signed with unknown key unknown"
    assert ring.problem(key.key_id, b"entry", "%%%", T0) is not None


def test_keys_load_from_pem_or_the_keys_document(tmp_path: Path) -> None:
    private = Ed25519PrivateKey.generate()
    key = PublicKey(raw_public_key(private.public_key()), T0, None)
    document = KeyRing([key]).document()
    (tmp_path / "keys.json").write_text(json.dumps(document))
    (tmp_path / "key.pem").write_text(key.pem())
    for name in ("keys.json", "key.pem"):
        ring = load_trusted_keys(str(tmp_path / name))
        assert [k.key_id for k in ring] == [key.key_id]
    assert load_key_ring(json.dumps(document["keys"][0])).get(key.key_id) is not None


def test_bad_key_input_is_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_trusted_keys(str(tmp_path / "missing.pem"))
    (tmp_path / "junk").write_text("not a key")
    with pytest.raises(ValueError, match="neither a PEM"):
        load_trusted_keys(str(tmp_path / "junk"))
    jwk = PublicKey(raw_public_key(Ed25519PrivateKey.generate().public_key())).to_jwk()
    with pytest.raises(ValueError, match="thumbprint"):
        load_key_ring(json.dumps({"keys": [{**jwk, "kid": "forged"}]}))
    with pytest.raises(ValueError, match="cannot fetch"):
        load_trusted_keys("http://127.0.0.1:9/v1/audit/keys", timeout_s=1)
