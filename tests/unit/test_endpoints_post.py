"""`endpoints.post` connects to the checked address and verifies TLS against the host's name:
a local HTTPS server with a certificate for `hooks.test` answers it, reached by address only."""

from __future__ import annotations

import datetime
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chalicelib.services.stream import endpoints


def certificate(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_server(tmp_path):
    cert_file, key_file = certificate(tmp_path, "hooks.test")
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.headers["Host"], self.path, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert_file, seen
    server.shutdown()


def test_https_goes_to_the_checked_address_and_verifies_the_hosts_name(tls_server, monkeypatch):
    import certifi

    port, cert_file, seen = tls_server
    monkeypatch.setattr(certifi, "where", lambda: str(cert_file))
    target = endpoints.Target("https", "hooks.test", port, "/in?x=1", "127.0.0.1")

    status = endpoints.post(target, b'{"a":1}', {"Content-Type": "application/json"}, 5)

    assert status == 204
    assert seen == [(f"hooks.test:{port}", "/in?x=1", b'{"a":1}')]


def test_a_certificate_for_another_name_gets_no_delivery(tls_server, monkeypatch):
    import certifi

    port, cert_file, seen = tls_server
    monkeypatch.setattr(certifi, "where", lambda: str(cert_file))
    target = endpoints.Target("https", "other.test", port, "/in", "127.0.0.1")

    assert endpoints.post(target, b"{}", {}, 5) == 0
    assert seen == []


def test_an_untrusted_certificate_gets_no_delivery(tls_server):
    port, _, seen = tls_server
    target = endpoints.Target("https", "hooks.test", port, "/in", "127.0.0.1")

    assert endpoints.post(target, b"{}", {}, 5) == 0
    assert seen == []
