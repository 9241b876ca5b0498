"""Authentication settings (env prefix ``NAERVAER_AUTH_``), built in ``create_app()``.

Where the verification keys come from, first match wins: ``jwks_url`` (an identity provider's
JWKS, fetched and cached), ``public_key_pem`` / ``public_key_file`` (one PEM public key or
certificate), else — in development only — the data folder's dev key
(``naervaer.auth.devkeys``). Production without a key refuses to start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Asymmetric algorithms only: a verifier holding a public key must never accept HS*, whose
# "secret" would then be that public key (the classic algorithm-confusion attack).
Algorithm = Literal["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]

DEFAULT_ISSUER = "naervaer-dev"
DEFAULT_AUDIENCE = "naervaer"
DEFAULT_ALGORITHMS: tuple[Algorithm, ...] = ("RS256", "ES256")


class AuthSettings(BaseSettings):
    """How bearer tokens are verified (env prefix ``NAERVAER_AUTH_``)."""

    model_config = SettingsConfigDict(env_prefix="NAERVAER_AUTH_", extra="ignore")

    issuer: str = Field(default=DEFAULT_ISSUER, min_length=1, description="Expected `iss`.")
    audience: str = Field(default=DEFAULT_AUDIENCE, min_length=1, description="Expected `aud`.")
    jwks_url: str | None = Field(
        default=None, description="JWKS URL of the identity provider (http or https)."
    )
    public_key_pem: str | None = Field(
        default=None, description="PEM public key or certificate; `\\n` escapes are accepted."
    )
    public_key_file: Path | None = Field(default=None, description="File holding the PEM key.")
    algorithms: Annotated[list[Algorithm], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ALGORITHMS),
        min_length=1,
        description="Accepted signature algorithms, comma-separated (e.g. RS256,ES256).",
    )
    leeway_s: float = Field(
        default=30, ge=0, le=300, description="Clock skew allowed on exp/nbf/iat."
    )
    jwks_cache_s: float = Field(
        default=300, gt=0, description="How long a fetched JWKS is trusted before refetching."
    )
    jwks_refresh_cooldown_s: float = Field(
        default=30,
        ge=0,
        description="Minimum time between forced JWKS refetches on an unknown kid (limits "
        "how hard forged tokens can make us hammer the identity provider).",
    )
    jwks_timeout_s: float = Field(default=5, gt=0, description="HTTP timeout of a JWKS fetch.")

    @field_validator("algorithms", mode="before")
    @classmethod
    def _split_algorithms(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("jwks_url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        if value is not None and urlparse(value).scheme not in ("http", "https"):
            raise ValueError("jwks_url must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> AuthSettings:
        given = [self.jwks_url, self.public_key_pem, self.public_key_file]
        if sum(source is not None for source in given) > 1:
            raise ValueError("set only one of jwks_url, public_key_pem, public_key_file")
        return self

    @property
    def has_key_source(self) -> bool:
        return any(
            s is not None for s in (self.jwks_url, self.public_key_pem, self.public_key_file)
        )
