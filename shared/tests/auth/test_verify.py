"""Token verification with a static key: the happy paths and every way a token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from naervaer.auth.errors import AuthConfigurationError, TokenError
from naervaer.auth.keys import StaticKeys, load_public_key
from naervaer.auth.principal import Principal, Role
from naervaer.auth.verify import TokenVerifier

MakeVerifier = Callable[..., TokenVerifier]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    encoded = [b64(json.dumps(part, default=str).encode()) for part in (header, payload)]
    return ".".join([*encoded, b64(signature)])


def epoch(delta: timedelta = timedelta()) -> int:
    return int((datetime.now(UTC) + delta).timestamp())


def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    return caught.value.reason


@pytest.fixture
def es_verifier(es_signer: Any, make_verifier: MakeVerifier) -> TokenVerifier:
    return make_verifier(StaticKeys(load_public_key(es_signer.public_pem()), kid=es_signer.kid))


def test_valid_es256(es_signer: Any, es_verifier: TokenVerifier) -> None:
    token = es_signer.token(sub="e-7", tenant="acme", roles=["employee", "manager"])
    assert es_verifier.verify(token) == Principal(
        "e-7", "acme", frozenset({Role.EMPLOYEE, Role.MANAGER}), "jti-1"
    )


def test_valid_rs256(rs_signer: Any, make_verifier: MakeVerifier) -> None:
    verifier = make_verifier(StaticKeys(load_public_key(rs_signer.public_pem())))
    assert verifier.verify(rs_signer.token()).roles == {Role.HR}


async def test_verify_async_with_static_key(es_signer: Any, es_verifier: TokenVerifier) -> None:
    assert (await es_verifier.verify_async(es_signer.token())).subject == "u1"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": epoch(timedelta(minutes=-5))}, "token expired"),
        (
            {"nbf": epoch(timedelta(minutes=5))},
            "token not yet valid: The token is not yet valid (nbf)",
        ),
        (
            {"iat": epoch(timedelta(minutes=5))},
            "token not yet valid: The token is not yet valid (iat)",
        ),
        ({"aud": "someone-else"}, "wrong audience"),
        ({"iss": "https://evil.example"}, "wrong issuer"),
        ({"roles": "hr"}, "claim roles must be a list of strings"),
        ({"roles": ["admin"]}, "no known role in claim roles"),
        ({"tenant": ""}, "claim tenant must be a non-empty string"),
        ({"tenant": 7}, "claim tenant must be a non-empty string"),
        ({"sub": ""}, "claim sub must be a non-empty string"),
    ],
)
def test_refused_claims(
    es_signer: Any, es_verifier: TokenVerifier, changes: dict[str, Any], reason: str
) -> None:
    assert refusal(es_verifier, es_signer.token(**changes)).startswith(reason)


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "exp", "iat", "tenant", "roles"])
def test_missing_claim(es_signer: Any, es_verifier: TokenVerifier, claim: str) -> None:
    assert refusal(es_verifier, es_signer.token(drop=(claim,))) == f"missing claim {claim}"


def test_leeway_tolerates_small_clock_skew(es_signer: Any, make_verifier: MakeVerifier) -> None:
    keys = StaticKeys(es_signer.public_key)
    token = es_signer.token(exp=epoch(timedelta(seconds=-10)))
    assert make_verifier(keys, leeway_s=30).verify(token).subject == "u1"
    assert refusal(make_verifier(keys, leeway_s=0), token) == "token expired"


def test_unknown_roles_are_ignored_and_jti_is_optional(
    es_signer: Any, es_verifier: TokenVerifier
) -> None:
    principal = es_verifier.verify(es_signer.token(roles=["admin", "nav"], drop=("jti",)))
    assert principal.roles == frozenset({Role.NAV})
    assert principal.token_id is None


def test_audience_list_containing_ours(es_signer: Any, es_verifier: TokenVerifier) -> None:
    assert es_verifier.verify(es_signer.token(aud=["other", "naervaer"])).tenant == "t1"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_refused(es_verifier: TokenVerifier, alg: str) -> None:
    token = unsigned_token({"alg": alg, "typ": "JWT", "kid": "es-1"}, {"sub": "u1"})
    assert refusal(es_verifier, token) == "unsigned token (alg none) refused"


def test_hs256_signed_with_the_public_key_refused(
    es_signer: Any, es_verifier: TokenVerifier
) -> None:
    # Algorithm confusion: a verifier that let the header choose HS256 would check this
    # HMAC with the (public!) PEM as its secret and accept it.
    header = {"alg": "HS256", "typ": "JWT", "kid": "es-1"}
    payload = {
        "iss": "x",
        "sub": "u1",
        "tenant": "t1",
        "roles": ["hr"],
        "exp": epoch(timedelta(hours=1)),
    }
    signing_input = unsigned_token(header, payload).rsplit(".", 1)[0]
    mac = hmac.new(es_signer.public_pem().encode(), signing_input.encode(), hashlib.sha256)
    token = f"{signing_input}.{b64(mac.digest())}"
    assert refusal(es_verifier, token) == "algorithm HS256 not allowed (allowed: RS256, ES256)"


def test_algorithm_not_matching_the_key_refused(rs_signer: Any, es_verifier: TokenVerifier) -> None:
    token = rs_signer.token(headers={"kid": "es-1"})
    assert refusal(es_verifier, token) == "algorithm RS256 does not match the configured key"


def test_unknown_kid_refused(es_signer_2: Any, es_verifier: TokenVerifier) -> None:
    assert refusal(es_verifier, es_signer_2.token()) == "unknown signing key (kid 'es-2')"


def test_signature_of_another_key_refused(es_signer_2: Any, es_verifier: TokenVerifier) -> None:
    token = es_signer_2.token(headers={"kid": "es-1"})
    assert refusal(es_verifier, token) == "signature verification failed"


def test_tampered_payload_refused(es_signer: Any, es_verifier: TokenVerifier) -> None:
    header, _, signature = es_signer.token().split(".")
    forged = b64(json.dumps({"sub": "u1", "tenant": "t2", "roles": ["system"]}).encode())
    assert refusal(es_verifier, f"{header}.{forged}.{signature}") == "signature verification failed"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "a.b"])
def test_malformed_refused(es_verifier: TokenVerifier, token: str) -> None:
    assert refusal(es_verifier, token).startswith("malformed token")


def test_oversized_token_refused(es_verifier: TokenVerifier) -> None:
    assert refusal(es_verifier, "a" * 20_000) == "token too large"


@pytest.mark.parametrize("algorithms", [["HS256"], ["ES256", "none"], []])
def test_symmetric_or_no_algorithms_cannot_be_configured(
    es_signer: Any, algorithms: list[str]
) -> None:
    with pytest.raises(AuthConfigurationError):
        TokenVerifier(
            StaticKeys(es_signer.public_key), issuer="i", audience="a", algorithms=algorithms
        )


def test_short_rsa_keys_are_refused_at_configuration() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    with pytest.raises(AuthConfigurationError, match="1024 bits"):
        StaticKeys(load_public_key(_pem(weak)))


def test_garbage_pem_is_a_configuration_error() -> None:
    with pytest.raises(AuthConfigurationError, match="not a PEM public key"):
        load_public_key("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----")


def _pem(key: rsa.RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
