"""An OIDC issuer for the tests: a real RSA signing key, its discovery document and JWKS
served over HTTP on 127.0.0.1 from a thread, and access tokens signed as an IdP signs them.
"""

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

KEY_ID = "kcr-test-key-1"
AUDIENCE = "kcr-mcp"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Issuer:
    url: str
    key: rsa.RSAPrivateKey
    requests: list[str] = field(default_factory=list)

    def token(
        self,
        username: str,
        *,
        scope: str = "kcr:read kcr:draft",
        groups: list[str] | None = None,
        lifetime: int = 600,
        signer: rsa.RSAPrivateKey | None = None,
        **overrides: Any,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": uuid.uuid4().hex,
            "preferred_username": username,
            "groups": groups or [],
            "scope": scope,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return jwt.encode(claims, signer or self.key, algorithm="RS256", headers={"kid": KEY_ID})


@contextmanager
def running_issuer() -> Iterator[Issuer]:
    """Discovery at /.well-known/openid-configuration, keys at /keys; stopped on exit."""
    key = new_key()
    public = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwks = {"keys": [{**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}
    holder: dict[str, Issuer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer = holder["issuer"]
            issuer.requests.append(self.path)
            documents = {
                "/.well-known/openid-configuration": {
                    "issuer": issuer.url,
                    "jwks_uri": f"{issuer.url}/keys",
                },
                "/keys": jwks,
            }
            body = json.dumps(documents.get(self.path, {})).encode()
            self.send_response(200 if self.path in documents else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            """Quiet: the test asserts on ``requests`` instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["issuer"] = Issuer(url=f"http://127.0.0.1:{server.server_address[1]}", key=key)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield holder["issuer"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
