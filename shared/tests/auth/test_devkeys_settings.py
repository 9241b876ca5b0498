"""The dev key, dev tokens and how the settings choose (or refuse) a key source."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import jwt
import pytest
from pydantic import ValidationError

from naervaer.auth.devkeys import DEV_KEY_FILE, DEV_PUBLIC_KEY_FILE, ensure_dev_key, mint_token
from naervaer.auth.errors import AuthConfigurationError, TokenError
from naervaer.auth.principal import Role
from naervaer.auth.settings import AuthSettings
from naervaer.auth.verify import TokenVerifier
from naervaer.settings import PlatformSettings

_AUTH_ENV = ("JWKS_URL", "PUBLIC_KEY_PEM", "PUBLIC_KEY_FILE", "ALGORITHMS", "ISSUER", "AUDIENCE")


@pytest.fixture(autouse=True)
def _clean_auth_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _AUTH_ENV:
        monkeypatch.delenv(f"NAERVAER_AUTH_{name}", raising=False)


def platform(
    data_dir: Path, environment: Literal["development", "production"] = "development"
) -> PlatformSettings:
    return PlatformSettings(data_dir=data_dir, environment=environment)


def test_dev_key_created_once_private_and_stable(tmp_path: Path) -> None:
    first = ensure_dev_key(tmp_path)
    second = ensure_dev_key(tmp_path)
    assert stat.S_IMODE((tmp_path / DEV_KEY_FILE).stat().st_mode) == 0o600
    assert (tmp_path / DEV_PUBLIC_KEY_FILE).read_text() == first.public_key_pem
    assert first.kid == second.kid
    assert first.jwks()["keys"][0]["kid"] == first.kid


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        kids = set(pool.map(lambda _: ensure_dev_key(tmp_path).kid, range(8)))
    assert len(kids) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_minted_token_verifies_with_development_settings(tmp_path: Path) -> None:
    token = mint_token(tmp_path, tenant="acme", roles=["manager", "hr"], sub="m-1", ttl_s=60)
    verifier = TokenVerifier.from_settings(AuthSettings(), platform(tmp_path))
    principal = verifier.verify(token)
    assert (principal.subject, principal.tenant) == ("m-1", "acme")
    assert principal.roles == {Role.MANAGER, Role.HR}
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == ("ES256", ensure_dev_key(tmp_path).kid)


def test_single_role_and_extra_claims(tmp_path: Path) -> None:
    token = mint_token(tmp_path, tenant="t", roles="nav", sub="n", extra_claims={"name": "Nora"})
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["roles"], claims["name"]) == (["nav"], "Nora")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"roles": ["root"]},
        {"roles": []},
        {"tenant": ""},
        {"ttl_s": 0},
    ],
)
def test_mint_refuses_nonsense(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        mint_token(tmp_path, **({"tenant": "t", "roles": "hr", "sub": "s"} | kwargs))


def test_token_of_another_data_folder_is_refused(tmp_path: Path) -> None:
    token = mint_token(tmp_path / "a", tenant="t", roles="hr", sub="s")
    verifier = TokenVerifier.from_settings(AuthSettings(), platform(tmp_path / "b"))
    with pytest.raises(TokenError, match="unknown signing key"):
        verifier.verify(token)


def test_production_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigurationError, match="NAERVAER_AUTH_JWKS_URL"):
        TokenVerifier.from_settings(AuthSettings(), platform(tmp_path, "production"))
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_production_with_pem_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, es_signer: Any
) -> None:
    # Escaped newlines, as a PEM usually arrives through an env var or a secret store.
    monkeypatch.setenv("NAERVAER_AUTH_PUBLIC_KEY_PEM", es_signer.public_pem().replace("\n", "\\n"))
    monkeypatch.setenv("NAERVAER_AUTH_ISSUER", "https://idp.example.test")
    monkeypatch.setenv("NAERVAER_AUTH_ALGORITHMS", "ES256, RS256")
    auth = AuthSettings()
    assert auth.algorithms == ["ES256", "RS256"]
    verifier = TokenVerifier.from_settings(auth, platform(tmp_path, "production"))
    assert verifier.verify(es_signer.token()).subject == "u1"


def test_public_key_file(tmp_path: Path, rs_signer: Any) -> None:
    key_file = tmp_path / "idp.pem"
    key_file.write_text(rs_signer.public_pem())
    auth = AuthSettings(public_key_file=key_file, issuer="https://idp.example.test")
    verifier = TokenVerifier.from_settings(auth, platform(tmp_path, "production"))
    assert verifier.verify(rs_signer.token()).tenant == "t1"


def test_missing_public_key_file(tmp_path: Path) -> None:
    auth = AuthSettings(public_key_file=tmp_path / "absent.pem")
    with pytest.raises(AuthConfigurationError, match="cannot read public key file"):
        TokenVerifier.from_settings(auth, platform(tmp_path, "production"))


def test_dev_key_needs_es256_allowed(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigurationError, match="ES256"):
        TokenVerifier.from_settings(AuthSettings(algorithms=["RS256"]), platform(tmp_path))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"jwks_url": "https://idp/jwks", "public_key_pem": "x"},
        {"jwks_url": "file:///etc/passwd"},
        {"algorithms": ["HS256"]},
        {"algorithms": []},
        {"leeway_s": -1},
    ],
)
def test_invalid_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AuthSettings(**kwargs)
