"""Keys from a JWKS served by a real local HTTP server: caching, rotation, outages."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from naervaer.auth.errors import KeysUnavailable, TokenError
from naervaer.auth.keys import JwksKeys
from naervaer.auth.verify import TokenVerifier

MakeVerifier = Callable[..., TokenVerifier]


def jwks_verifier(
    make_verifier: MakeVerifier, url: str, *, cache_s: float = 60, cooldown_s: float = 0
) -> TokenVerifier:
    return make_verifier(JwksKeys(url, cache_s=cache_s, cooldown_s=cooldown_s, timeout_s=2))


def wait_until(condition: Callable[[], bool], timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.02)


def refused(verifier: TokenVerifier, token: str) -> bool:
    try:
        verifier.verify(token)
    except TokenError:
        return True
    return False


def test_es256_and_rs256_from_one_cached_jwks(
    jwks_server: Any, es_signer: Any, rs_signer: Any, make_verifier: MakeVerifier
) -> None:
    jwks_server.publish(es_signer, rs_signer)
    verifier = jwks_verifier(make_verifier, jwks_server.url)
    for _ in range(3):
        assert verifier.verify(es_signer.token()).subject == "u1"
        assert verifier.verify(rs_signer.token()).subject == "u1"
    assert jwks_server.fetches == 1


def test_rotation_new_key_fetched_on_demand_old_key_expires(
    jwks_server: Any, es_signer: Any, es_signer_2: Any, make_verifier: MakeVerifier
) -> None:
    jwks_server.publish(es_signer)
    verifier = jwks_verifier(make_verifier, jwks_server.url, cache_s=0.3)
    old_token, new_token = es_signer.token(), es_signer_2.token()
    assert verifier.verify(old_token).subject == "u1"

    jwks_server.publish(es_signer, es_signer_2)  # the provider adds the next key ...
    assert verifier.verify(new_token).subject == "u1"  # ... an unknown kid forces a refetch
    assert jwks_server.fetches == 2

    jwks_server.publish(es_signer_2)  # ... and retires the first one
    wait_until(lambda: refused(verifier, old_token))
    with pytest.raises(TokenError, match="unknown signing key \\(kid 'es-1'\\)"):
        verifier.verify(old_token)
    assert verifier.verify(new_token).subject == "u1"


def test_unknown_kid_refetches_at_most_once_per_cooldown(
    jwks_server: Any, es_signer: Any, es_signer_2: Any, make_verifier: MakeVerifier
) -> None:
    jwks_server.publish(es_signer)
    verifier = jwks_verifier(make_verifier, jwks_server.url, cooldown_s=60)
    assert verifier.verify(es_signer.token()).subject == "u1"
    for _ in range(5):  # forged kids must not make us hammer the identity provider
        with pytest.raises(TokenError, match="unknown signing key"):
            verifier.verify(es_signer_2.token())
    assert jwks_server.fetches == 1


def test_token_without_kid_refused(
    jwks_server: Any, es_signer: Any, make_verifier: MakeVerifier
) -> None:
    jwks_server.publish(es_signer)
    token = dataclasses.replace(es_signer, kid=None).token()
    with pytest.raises(TokenError, match="no kid"):
        jwks_verifier(make_verifier, jwks_server.url).verify(token)
    assert jwks_server.fetches == 0


def test_key_published_for_another_algorithm_refused(
    jwks_server: Any, es_signer: Any, rs_signer: Any, make_verifier: MakeVerifier
) -> None:
    jwks_server.publish(rs_signer)
    token = es_signer.token(headers={"kid": "rs-1"})
    with pytest.raises(TokenError, match="algorithm ES256 does not match key 'rs-1' \\(RS256\\)"):
        jwks_verifier(make_verifier, jwks_server.url).verify(token)


async def test_unreachable_jwks_is_unavailable_not_invalid(
    es_signer: Any, make_verifier: MakeVerifier
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = jwks_verifier(make_verifier, f"http://127.0.0.1:{port}/jwks.json")
    with pytest.raises(KeysUnavailable, match="unreachable"):
        await verifier.verify_async(es_signer.token())


async def test_verify_async_with_jwks(
    jwks_server: Any, es_signer: Any, make_verifier: MakeVerifier
) -> None:
    jwks_server.publish(es_signer)
    verifier = jwks_verifier(make_verifier, jwks_server.url)
    assert (await verifier.verify_async(es_signer.token())).tenant == "t1"
