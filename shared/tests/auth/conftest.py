"""Signing keys, token factories and a real local JWKS server for the auth tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from naervaer.auth.keys import KeySource, PublicKey, public_jwk
from naervaer.auth.verify import TokenVerifier

ISSUER = "https://idp.example.test"
AUDIENCE = "naervaer"


@dataclass(frozen=True)
class Signer:
    """A key pair that mints test tokens; ``kid`` goes into the header when set."""

    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    alg: str
    kid: str | None

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def jwk(self) -> dict[str, Any]:
        return {**public_jwk(self.public_key), "kid": self.kid, "alg": self.alg, "use": "sig"}

    def token(
        self, *, headers: dict[str, Any] | None = None, drop: tuple[str, ...] = (), **changes: Any
    ) -> str:
        """A token with valid claims; ``changes`` override claims, ``drop`` leaves some out."""
        header = {"kid": self.kid} if self.kid else {}
        payload = {k: v for k, v in claims(**changes).items() if k not in drop}
        return jwt.encode(
            payload, self.private_key, algorithm=self.alg, headers=header | (headers or {})
        )


def claims(**changes: Any) -> dict[str, Any]:
    """Valid claims for tenant t1, subject u1, role hr; ``changes`` override."""
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u1",
        "tenant": "t1",
        "roles": ["hr"],
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": "jti-1",
    }
    return base | changes


def verifier(keys: KeySource, **kwargs: Any) -> TokenVerifier:
    options: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "algorithms": ["RS256", "ES256"],
    }
    return TokenVerifier(keys, **(options | kwargs))


@pytest.fixture(scope="session")
def make_verifier() -> Callable[..., TokenVerifier]:
    """``make_verifier(keys, **overrides)``: a verifier expecting the test issuer/audience."""
    return verifier


@pytest.fixture(scope="session")
def es_signer() -> Signer:
    return Signer(ec.generate_private_key(ec.SECP256R1()), "ES256", "es-1")


@pytest.fixture(scope="session")
def es_signer_2() -> Signer:
    return Signer(ec.generate_private_key(ec.SECP256R1()), "ES256", "es-2")


@pytest.fixture(scope="session")
def rs_signer() -> Signer:
    return Signer(rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", "rs-1")


@dataclass
class JwksServer:
    """A real HTTP server on 127.0.0.1 serving a mutable JWK Set and counting fetches."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    fetches: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, *signers: Signer) -> None:
        with self.lock:
            self.keys = [s.jwk() for s in signers]

    def body(self) -> bytes:
        with self.lock:
            self.fetches += 1
            return json.dumps({"keys": self.keys}).encode()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    state = JwksServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state.body()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
