"""Verified tokens kept for a static key: answered again without a second signature check, and
refused exactly as PyJWT would once their time claims lapse (see ``test_jwks`` for a JWKS,
whose retired keys stop verifying: its tokens are never kept)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from jwt import PyJWK

from naervaer.auth.errors import TokenError
from naervaer.auth.keys import StaticKeys, load_public_key
from naervaer.auth.principal import Principal, Role
from naervaer.auth.token_memo import TokenMemo
from naervaer.auth.verify import TokenVerifier

MakeVerifier = Callable[..., TokenVerifier]
PRINCIPAL = Principal("u1", "t1", frozenset({Role.HR}), "jti-1")
T0 = 1_800_000_000


class CountedKeys(StaticKeys):
    """A static key that counts how often a token's key is looked up (once per full check)."""

    lookups = 0

    def key_for(self, kid: str | None, alg: str) -> PyJWK:
        self.lookups += 1
        return super().key_for(kid, alg)


class Clock:
    def __init__(self) -> None:
        self.now = float(T0)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keys(es_signer: Any) -> CountedKeys:
    return CountedKeys(load_public_key(es_signer.public_pem()), kid=es_signer.kid)


def test_a_verified_token_is_answered_without_checking_it_again(
    es_signer: Any, keys: CountedKeys, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(keys)
    token = es_signer.token()

    answers = [verifier.verify(token) for _ in range(3)]

    assert answers == [PRINCIPAL] * 3
    assert keys.lookups == 1


def test_refused_tokens_are_never_kept(
    es_signer: Any, es_signer_2: Any, keys: CountedKeys, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(keys)
    foreign = es_signer_2.token(headers={"kid": es_signer.kid})  # signed by another key
    expired = es_signer.token(exp=1)  # long expired

    for _ in range(2):
        with pytest.raises(TokenError, match="signature verification failed"):
            verifier.verify(foreign)
        with pytest.raises(TokenError, match="token expired"):
            verifier.verify(expired)
    assert keys.lookups == 4


def test_a_kept_token_past_its_expiry_gets_the_full_check_and_its_refusal(
    es_signer: Any, keys: CountedKeys, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(keys, leeway_s=0)
    token = es_signer.token(exp=int(time.time()) + 1)
    assert verifier.verify(token) == PRINCIPAL

    deadline = time.monotonic() + 5
    while (reason := refusal_of(verifier, token)) is None:
        assert time.monotonic() < deadline, "the kept token was still answered after exp"
        time.sleep(0.05)  # real time has to pass: exp is in whole seconds

    assert reason == "token expired"
    assert keys.lookups == 2  # refused by the full check, not by the memo


def refusal_of(verifier: TokenVerifier, token: str) -> str | None:
    try:
        verifier.verify(token)
    except TokenError as error:
        return error.reason
    return None


@pytest.mark.parametrize(
    ("now", "kept"),
    [
        (T0 + 99, True),  # exp - 1
        (T0 + 100, False),  # PyJWT: exp <= now - leeway is expired
        (T0 + 104, False),
    ],
)
def test_expiry_is_judged_as_pyjwt_judges_it(now: int, kept: bool) -> None:
    clock = Clock()
    memo = TokenMemo(leeway_s=0, now=clock)
    memo.keep("t", {"iat": T0, "exp": T0 + 100}, PRINCIPAL)
    clock.now = now
    assert (memo.principal("t") is not None) is kept


def test_leeway_extends_expiry_and_tolerates_early_tokens() -> None:
    clock = Clock()
    memo = TokenMemo(leeway_s=30, now=clock)
    memo.keep("early", {"iat": T0 + 20, "nbf": T0 + 25, "exp": T0 + 100}, PRINCIPAL)
    memo.keep("late", {"iat": T0, "exp": T0 + 10}, PRINCIPAL)
    assert memo.principal("early") == PRINCIPAL  # nbf, iat within the leeway ahead
    clock.now = T0 + 39
    assert memo.principal("late") == PRINCIPAL  # exp + leeway not reached
    clock.now = T0 + 40
    assert memo.principal("late") is None


def test_a_token_not_yet_valid_is_not_answered() -> None:
    clock = Clock()
    memo = TokenMemo(leeway_s=0, now=clock)
    memo.keep("t", {"iat": T0, "nbf": T0 + 60, "exp": T0 + 600}, PRINCIPAL)
    assert memo.principal("t") is None


def test_the_memo_is_bounded_oldest_first() -> None:
    memo = TokenMemo(leeway_s=0, max_tokens=2, now=Clock())
    for token in ("a", "b", "c"):
        memo.keep(token, {"iat": T0, "exp": T0 + 60}, PRINCIPAL)
    assert len(memo) == 2
    assert memo.principal("a") is None
    assert memo.principal("c") == PRINCIPAL


async def test_verify_async_uses_the_memo_too(
    es_signer: Any, keys: CountedKeys, make_verifier: MakeVerifier
) -> None:
    verifier = make_verifier(keys)
    token = es_signer.token()
    first = verifier.verify(token)
    assert await verifier.verify_async(token) == first
    assert keys.lookups == 1
