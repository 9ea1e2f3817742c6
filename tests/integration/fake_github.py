"""A tiny stand-in for GitHub's OAuth device flow and user API, served on loopback."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeGitHub:
    """Each device code is pending on its first poll and approved on the next."""

    def __init__(self) -> None:
        self.polls: dict[str, int] = {}
        self.tokens: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def env(self) -> dict[str, str]:
        return {
            "GITHUB_CLIENT_ID": "fake-client",
            "GITHUB_CLIENT_SECRET": "fake-secret",
            "GITHUB_DEVICE_CODE_URL": f"{self.url}/login/device/code",
            "GITHUB_TOKEN_URL": f"{self.url}/login/oauth/access_token",
            "GITHUB_API_URL": f"{self.url}/api",
        }

    def person_for(self, device_code: str, *, user_id: int, email: str) -> None:
        with self.lock:
            self.tokens[device_code] = {"id": user_id, "email": email}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_):
                pass

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if form.get("client_id") != "fake-client":
                    return self._send(200, {"error": "incorrect_client_credentials"})
                if self.path == "/login/device/code":
                    return self._send(200, {
                        "device_code": uuid.uuid4().hex,
                        "user_code": "WDJB-MJHT",
                        "verification_uri": f"{fake.url}/login/device",
                        "expires_in": 900,
                        "interval": 5,
                    })  # fmt: skip
                if self.path == "/login/oauth/access_token":
                    code = form.get("device_code", "")
                    with fake.lock:
                        fake.polls[code] = fake.polls.get(code, 0) + 1
                        first = fake.polls[code] == 1
                        known = code in fake.tokens
                    if first or not known:
                        return self._send(200, {"error": "authorization_pending"})
                    return self._send(
                        200, {"access_token": f"token-{code}", "token_type": "bearer"}
                    )
                return self._send(404, {"message": "Not Found"})

            def do_GET(self):
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                code = token.removeprefix("token-")
                with fake.lock:
                    person = fake.tokens.get(code)
                if person is None:
                    return self._send(401, {"message": "Bad credentials"})
                if self.path == "/api/user":
                    return self._send(200, {"id": person["id"], "login": "octo", "name": "Octo"})
                if self.path == "/api/user/emails":
                    return self._send(
                        200, [{"email": person["email"], "primary": True, "verified": True}]
                    )
                return self._send(404, {"message": "Not Found"})

        return Handler
