"""Stand-ins for Google's and GitHub's OAuth device flow and identity APIs, on loopback.

For tests and fuzzing only. A device code is pending on its first poll; once `approve()` names
the person behind it, the next poll succeeds (Google with a signed ID token, GitHub with an
access token its fake user API accepts). Unknown codes and tokens are refused the way the real
providers refuse them. `personal_access_token()` gives a GitHub token that the user API accepts
but that was not issued to our app, as a personal access token or another app's token would be.

`make run` starts them with FAKE_SIGN_IN=1: the verification page (`/device`) then lets a person
approve a code by typing it with any email, so the device flow can be tried without real apps.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "fake-client"
CLIENT_SECRET = "fake-secret"  # the fake's own, accepted nowhere else
KEY_ID = "fake-key"


class FakeProviders:
    def __init__(self) -> None:
        self.people: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, int] = {}
        self.user_codes: dict[str, str] = {}  # user code -> device code
        self.lock = threading.Lock()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProviders:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def env(self) -> dict[str, str]:
        return {
            "GOOGLE_CLIENT_ID": CLIENT_ID,
            "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
            "GOOGLE_DEVICE_CODE_URL": f"{self.url}/google/device/code",
            "GOOGLE_TOKEN_URL": f"{self.url}/google/token",
            "GOOGLE_JWKS_URL": f"{self.url}/google/certs",
            "GOOGLE_ISSUER": self.url,
            "GITHUB_CLIENT_ID": CLIENT_ID,
            "GITHUB_CLIENT_SECRET": CLIENT_SECRET,
            "GITHUB_DEVICE_CODE_URL": f"{self.url}/login/device/code",
            "GITHUB_TOKEN_URL": f"{self.url}/login/oauth/access_token",
            "GITHUB_API_URL": f"{self.url}/api",
        }

    def approve(self, device_code: str, *, subject: int | str, email: str) -> None:
        with self.lock:
            self.people[device_code] = {"id": subject, "email": email}

    def personal_access_token(self, *, subject: int | str, email: str) -> str:
        """A token GitHub's user API accepts, not issued to our OAuth app."""
        code = f"pat-{uuid.uuid4().hex}"
        with self.lock:
            self.people[code] = {"id": subject, "email": email, "app": False}
        return f"token-{code}"

    @staticmethod
    def _user_code() -> str:
        letters = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(8))
        return f"{letters[:4]}-{letters[4:]}"

    def _issued_to_us(self, token: str) -> bool:
        with self.lock:
            person = self.people.get(token.removeprefix("token-"))
        return person is not None and person.get("app", True)

    def id_token(self, person: dict[str, Any]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url, "aud": CLIENT_ID, "sub": str(person["id"]), "iat": now,
            "exp": now + 600, "email": person["email"], "email_verified": True, "name": "Fake",
        }  # fmt: skip
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KEY_ID})

    def _poll(self, code: str) -> dict[str, Any] | None:
        """The approved person on the second and later polls of a known code, else None."""
        with self.lock:
            self.polls[code] = self.polls.get(code, 0) + 1
            return self.people.get(code) if self.polls[code] > 1 else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _form(self) -> dict[str, str]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode(errors="replace")
                return {k: v[0] for k, v in parse_qs(raw).items()}

            def _basic_auth_ok(self) -> bool:
                expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                return self.headers.get("Authorization", "") == f"Basic {expected}"

            def _check_token(self) -> None:
                """GitHub's POST /applications/{client_id}/token."""
                if not self._basic_auth_ok():
                    return self._send(401, {"message": "Requires authentication"})
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    token = json.loads(self.rfile.read(length) or b"{}").get("access_token", "")
                except ValueError:
                    return self._send(422, {"message": "Problems parsing JSON"})
                if not fake._issued_to_us(str(token)):
                    return self._send(404, {"message": "Not Found"})
                return self._send(200, {"token": token, "app": {"client_id": CLIENT_ID}})

            def do_POST(self) -> None:
                if self.path == f"/api/applications/{CLIENT_ID}/token":
                    return self._check_token()
                form = self._form()
                if form.get("client_id") != CLIENT_ID:
                    return self._send(401, {"error": "invalid_client"})
                device = {"device_code": uuid.uuid4().hex, "user_code": fake._user_code(),
                          "expires_in": 900, "interval": 5}  # fmt: skip
                with fake.lock:
                    fake.user_codes[device["user_code"]] = device["device_code"]
                if self.path == "/google/device/code":
                    return self._send(200, {**device, "verification_url": f"{fake.url}/device"})
                if self.path == "/login/device/code":
                    return self._send(200, {**device, "verification_uri": f"{fake.url}/device"})
                person = fake._poll(form.get("device_code", ""))
                if self.path == "/google/token":
                    if person is None:
                        return self._send(428, {"error": "authorization_pending"})
                    return self._send(200, {"access_token": "x", "id_token": fake.id_token(person)})
                if self.path == "/login/oauth/access_token":
                    if person is None:
                        return self._send(200, {"error": "authorization_pending"})
                    return self._send(200, {"access_token": f"token-{form['device_code']}"})
                return self._send(404, {"message": "Not Found"})

            def _page(self, text: str, form: bool) -> None:
                body = f"<!doctype html><title>Fake sign-in</title><p>{html.escape(text)}</p>"
                if form:
                    body += (
                        '<form method="get" action="/device"><p>Code <input name="user_code">'
                        '</p><p>Email <input name="email" type="email"></p>'
                        "<button>Approve</button></form>"
                    )
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _verification_page(self) -> None:
                """The page verification_url points at: approve a user code as any email."""
                query = {k: v[0] for k, v in parse_qs(self.path.partition("?")[2]).items()}
                code, email = query.get("user_code", "").strip().upper(), query.get("email", "")
                if not (code and email):
                    return self._page("Type the code the device shows, and any email.", True)
                with fake.lock:
                    device_code = fake.user_codes.get(code)
                if device_code is None:
                    return self._page(f"No device is waiting for {code}.", True)
                fake.approve(device_code, subject=f"local-{email}", email=email)
                return self._page(f"Approved as {email}. The device's next poll signs in.", False)

            def do_GET(self) -> None:
                if self.path.split("?")[0] == "/device":
                    return self._verification_page()
                if self.path == "/google/certs":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(fake.key.public_key()))
                    return self._send(200, {"keys": [{**jwk, "kid": KEY_ID, "alg": "RS256"}]})
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                with fake.lock:
                    person = fake.people.get(token.removeprefix("token-"))
                if person is None:
                    return self._send(401, {"message": "Bad credentials"})
                if self.path == "/api/user":
                    return self._send(200, {"id": person["id"], "login": "octo", "name": "Octo"})
                if self.path == "/api/user/emails":
                    emails = [{"email": person["email"], "primary": True, "verified": True}]
                    return self._send(200, emails)
                return self._send(404, {"message": "Not Found"})

        return Handler
