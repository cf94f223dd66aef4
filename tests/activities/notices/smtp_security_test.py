"""The SMTP adapter against a relay that wants encryption and a login, as a production relay
does: implicit TLS (465) or STARTTLS (587), then AUTH LOGIN or PLAIN. The relay is a real
aiosmtpd server with a certificate made by the test; the adapter trusts it through the
system's trust store (`SSL_CERT_FILE`), never by turning verification off."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from activities.notices import NoticeComposer, SmtpNotifier
from domain.notices import NoticeKind
from plumbing.settings import Settings

from .stories import ReturnStory

# aiosmtpd cannot tell that an implicit-TLS listener is encrypted, and warns of AUTH without TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER = "notices@returnflow.example"
PASSWORD = "relay-password-for-tests"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def self_signed(directory: Path) -> Certificate:
    """A certificate for the relay on loopback (127.0.0.1 and localhost), signed by itself."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "relay.pem"
    key_path = directory / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path)


@dataclass
class Relay:
    """What the relay saw: each login tried, and each message taken in over TLS."""

    logins: list[tuple[str, str, bool]] = field(default_factory=list)
    """(mechanism, user, accepted)"""
    delivered: list[tuple[list[str], bytes, bool]] = field(default_factory=list)
    """(recipients, content, over TLS)"""
    port: int = 0

    def authenticate(
        self, _server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        user, password = data.login.decode(), data.password.decode()
        accepted = (user, password) == (USER, PASSWORD)
        self.logins.append((mechanism, user, accepted))
        # Not `handled`: the relay answers a refusal with its 535.
        return AuthResult(success=accepted, handled=False)

    async def handle_DATA(self, server: Any, _session: Any, envelope: Any) -> str:
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.delivered.append((list(envelope.rcpt_tos), envelope.content, encrypted))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def relay(
    certificate: Certificate, security: Literal["tls", "starttls"], mechanism: str
) -> Iterator[Relay]:
    """A relay on loopback that takes mail only encrypted and after a login with `mechanism`
    (the other one is not offered)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    seen = Relay(port=free_port())
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    options: dict[str, Any] = {
        "authenticator": seen.authenticate,
        "auth_required": True,
        "auth_exclude_mechanism": [other],
    }
    if security == "tls":  # encrypted from the first byte (aiosmtpd warns all the same)
        options |= {"ssl_context": context, "auth_require_tls": False}
    else:  # nothing but EHLO and STARTTLS before the upgrade, no login in clear
        options |= {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    controller = Controller(seen, hostname="127.0.0.1", port=seen.port, **options)
    controller.start()
    try:
        yield seen
    finally:
        controller.stop()


def notifier(port: int, security: Literal["tls", "starttls"], password: str) -> SmtpNotifier:
    return SmtpNotifier(
        Settings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security=security,
            smtp_username=USER,
            smtp_password=SecretStr(password),
            smtp_timeout_seconds=5.0,
        )
    )


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed(tmp_path)


@pytest.fixture
def trusted(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Certificate:
    """The relay's certificate in the trust store the adapter's TLS checks against."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))
    return certificate


@pytest.mark.parametrize("security", ["tls", "starttls"])
@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
async def test_a_notice_goes_out_encrypted_after_a_login(
    trusted: Certificate,
    composer: NoticeComposer,
    english_return: ReturnStory,
    security: Literal["tls", "starttls"],
    mechanism: str,
) -> None:
    message = composer.compose(english_return.notice(NoticeKind.ACKNOWLEDGEMENT))
    with relay(trusted, security, mechanism) as seen:
        await notifier(seen.port, security, PASSWORD).send(message)

    assert seen.logins == [(mechanism, USER, True)]
    ((recipients, content, encrypted),) = seen.delivered
    assert encrypted, "the message was sent over TLS"
    assert recipients == [english_return.customer.email]
    assert message_from_bytes(content)["Message-ID"] == message["Message-ID"]


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_a_refused_login_is_retried_later_and_sends_nothing(
    trusted: Certificate,
    composer: NoticeComposer,
    english_return: ReturnStory,
    security: Literal["tls", "starttls"],
) -> None:
    message = composer.compose(english_return.notice(NoticeKind.ACKNOWLEDGEMENT))
    with (
        relay(trusted, security, "LOGIN") as seen,
        pytest.raises(
            ApplicationError, match="The mail relay is unavailable, will retry"
        ) as caught,
    ):
        await notifier(seen.port, security, "not-the-password").send(message)

    assert caught.value.type == "MailRelayUnavailable" and not caught.value.non_retryable
    assert "535" in str(caught.value) and "not-the-password" not in str(caught.value)
    assert seen.logins == [("LOGIN", USER, False)] and seen.delivered == []


@pytest.mark.parametrize("security", ["tls", "starttls"])
async def test_a_relay_whose_certificate_is_not_trusted_is_never_given_the_password(
    certificate: Certificate,
    composer: NoticeComposer,
    english_return: ReturnStory,
    security: Literal["tls", "starttls"],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The system's trust store holds another authority than the one that signed the relay.
    (tmp_path / "other").mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(self_signed(tmp_path / "other").cert))
    message = composer.compose(english_return.notice(NoticeKind.ACKNOWLEDGEMENT))
    refused = pytest.raises(ApplicationError, match="CERTIFICATE_VERIFY_FAILED")
    with relay(certificate, security, "LOGIN") as seen, refused as caught:
        await notifier(seen.port, security, PASSWORD).send(message)

    assert caught.value.type == "MailRelayUnavailable"
    assert seen.logins == [] and seen.delivered == []
