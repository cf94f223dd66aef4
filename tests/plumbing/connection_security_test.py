"""Connection security: TLS, mTLS and API keys, set only through Temporal's standard environment
configuration (`TEMPORAL_*` variables or a `temporal.toml` profile), which every returnflow
process reads.

The dev server speaks plaintext gRPC only, so a TLS-terminating proxy (tests/tls_proxy.py) plays
a secured cluster's frontend in front of it, with a throwaway PKI made here: the cluster's CA,
the frontend's certificate, a client certificate for returnflow's processes, and an unrelated
CA with a client certificate of its own. Every connection is made the way the product makes it:
`connect_config` reads the configuration, then `Client.connect` with the shared data converter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from plumbing.temporal import connect_config
from tests.keys import converter_for_tests
from tests.tls_proxy import TlsProxy

CLUSTER_NAME = "temporal.internal"
"""The frontend's name in its certificate (with `localhost`), as a self-hosted cluster's is."""

WORKER_CN = "returnflow-worker"
INTRUDER_CN = "intruder"

DEADLINE = 10.0
"""Seconds within which a connection succeeds or its refusal surfaces (both take milliseconds:
a refused TLS handshake is not retried)."""


# --- a throwaway PKI -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path


@dataclasses.dataclass(frozen=True)
class Pki:
    ca: Path
    """The cluster's CA: it signed the frontend's certificate and the clients it lets in."""
    server: Pem
    client: Pem
    intruder: Pem
    """A client certificate signed by another CA than the cluster's."""


class _Authority:
    def __init__(self, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (
            _builder(name, self.key, issuer=_name(name))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self.key, hashes.SHA256())
        )

    def issue(
        self, subject: str, usage: x509.ObjectIdentifier, dns_names: tuple[str, ...] = ()
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            _builder(subject, key, issuer=self.cert.subject)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if dns_names:
            names = [x509.DNSName(name) for name in dns_names]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(self.key, hashes.SHA256()), key


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: str, key: ec.EllipticCurvePrivateKey, *, issuer: x509.Name
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _write_cert(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _write_pair(
    directory: Path, stem: str, pair: tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
) -> Pem:
    cert, key = pair
    key_path = directory / f"{stem}.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return Pem(_write_cert(directory / f"{stem}.pem", cert), key_path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    cluster_ca, other_ca = _Authority("returnflow test cluster CA"), _Authority("some other CA")
    server_auth, client_auth = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    return Pki(
        ca=_write_cert(directory / "ca.pem", cluster_ca.cert),
        server=_write_pair(
            directory,
            "frontend",
            cluster_ca.issue(CLUSTER_NAME, server_auth, (CLUSTER_NAME, "localhost")),
        ),
        client=_write_pair(directory, "worker", cluster_ca.issue(WORKER_CN, client_auth)),
        intruder=_write_pair(directory, "intruder", other_ca.issue(INTRUDER_CN, client_auth)),
    )


# --- the secured frontend, and connecting as the product does ---------------------------------


@pytest.fixture
def dev_server(time_skipping_env: WorkflowEnvironment) -> tuple[str, int]:
    host, port = time_skipping_env.client.service_client.config.target_host.rsplit(":", 1)
    return host, int(port)


@pytest.fixture
async def mtls_frontend(pki: Pki, dev_server: tuple[str, int]) -> AsyncIterator[TlsProxy]:
    """A self-hosted cluster's frontend with mTLS: only clients of its CA get in."""
    async with TlsProxy(
        dev_server, cert=pki.server.cert, key=pki.server.key, client_ca=pki.ca
    ) as proxy:
        yield proxy


@pytest.fixture
async def api_key_frontend(pki: Pki, dev_server: tuple[str, int]) -> AsyncIterator[TlsProxy]:
    """A frontend like Temporal Cloud's API-key endpoints: TLS, no client certificate."""
    async with TlsProxy(dev_server, cert=pki.server.cert, key=pki.server.key) as proxy:
        yield proxy


@pytest.fixture
def no_config_file(tmp_path: Path) -> dict[str, str]:
    """Keeps the developer's own `~/.config/temporalio/temporal.toml` out of the tests."""
    return {"TEMPORAL_CONFIG_FILE": str(tmp_path / "absent.toml")}


async def connect(env: dict[str, str]) -> Client:
    """What `plumbing.temporal.connect` does, with `env` for the process's environment."""
    config = connect_config(env)
    target = config.pop("target_host")
    connecting = Client.connect(target, data_converter=converter_for_tests(), **config)
    return await asyncio.wait_for(connecting, DEADLINE)


async def refused(env: dict[str, str]) -> str:
    """The error a process gets when the connection is refused (it must not hang)."""
    with pytest.raises(RuntimeError, match="Failed client connect") as failure:
        await connect(env)
    return str(failure.value)


async def refusal_seen_by(frontend: TlsProxy) -> str:
    """Why the frontend refused the handshake."""
    async with asyncio.timeout(DEADLINE):
        return await frontend.first_refusal()


async def namespace_of(client: Client) -> str:
    """A round trip: the namespace as the cluster describes it, and a visibility query."""
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    async for _ in client.list_workflows(limit=1):
        break
    return described.namespace_info.name


# --- mTLS: a self-hosted cluster ---------------------------------------------------------------


def mtls_env(frontend: TlsProxy, client: Pem | None, pki: Pki, **more: str) -> dict[str, str]:
    env = {
        "TEMPORAL_ADDRESS": frontend.address,
        "TEMPORAL_NAMESPACE": "default",
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
        **more,
    }
    if client is not None:
        env["TEMPORAL_TLS_CLIENT_CERT_PATH"] = str(client.cert)
        env["TEMPORAL_TLS_CLIENT_KEY_PATH"] = str(client.key)
    return env


async def test_a_process_with_the_clusters_client_certificate_gets_in(
    mtls_frontend: TlsProxy, pki: Pki, no_config_file: dict[str, str]
) -> None:
    client = await connect(mtls_env(mtls_frontend, pki.client, pki, **no_config_file))

    assert await namespace_of(client) == "default"
    assert mtls_frontend.client_cns and set(mtls_frontend.client_cns) == {WORKER_CN}
    assert mtls_frontend.refusals == []


async def test_without_a_client_certificate_the_cluster_refuses_the_process(
    mtls_frontend: TlsProxy, pki: Pki, no_config_file: dict[str, str]
) -> None:
    await refused(mtls_env(mtls_frontend, None, pki, TEMPORAL_TLS="true", **no_config_file))

    assert await refusal_seen_by(mtls_frontend) == "PEER_DID_NOT_RETURN_A_CERTIFICATE"
    assert mtls_frontend.client_cns == []


async def test_a_client_certificate_from_another_ca_is_refused(
    mtls_frontend: TlsProxy, pki: Pki, no_config_file: dict[str, str]
) -> None:
    await refused(mtls_env(mtls_frontend, pki.intruder, pki, **no_config_file))

    assert await refusal_seen_by(mtls_frontend) == "CERTIFICATE_VERIFY_FAILED"
    assert mtls_frontend.client_cns == []


async def test_a_process_that_does_not_trust_the_clusters_ca_refuses_to_talk_to_it(
    mtls_frontend: TlsProxy, pki: Pki, no_config_file: dict[str, str]
) -> None:
    env = mtls_env(mtls_frontend, pki.client, pki, **no_config_file)
    del env["TEMPORAL_TLS_SERVER_CA_CERT_PATH"]  # the system's roots do not know a private CA

    error = await refused(env)

    assert "UnknownIssuer" in error
    assert await refusal_seen_by(mtls_frontend) == "TLSV1_ALERT_UNKNOWN_CA"
    assert mtls_frontend.client_cns == []  # nothing was sent to an unverified server


async def test_the_server_name_is_checked_against_the_clusters_certificate(
    mtls_frontend: TlsProxy, pki: Pki, no_config_file: dict[str, str]
) -> None:
    # Dialled by IP (or through a load balancer), the certificate carries another name.
    by_ip = f"127.0.0.1:{mtls_frontend.port}"
    env = mtls_env(mtls_frontend, pki.client, pki, TEMPORAL_ADDRESS=by_ip, **no_config_file)

    error = await refused(env)
    assert "NotValidForName" in error
    # The CLI's way around it means nothing to the SDK: the name is still checked.
    await refused({**env, "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION": "true"})

    env["TEMPORAL_TLS_SERVER_NAME"] = CLUSTER_NAME
    assert await namespace_of(await connect(env)) == "default"
    assert set(mtls_frontend.client_cns) == {WORKER_CN}


# --- the same configuration as a temporal.toml profile -------------------------------------


def write_profile(path: Path, frontend: TlsProxy, pki: Pki, client: Pem) -> Path:
    path.write_text(
        f"""\
[profile.production]
address = "{frontend.address}"
namespace = "default"

[profile.production.tls]
server_name = "{CLUSTER_NAME}"
server_ca_cert_path = "{pki.ca}"
client_cert_path = "{client.cert}"
client_key_path = "{client.key}"
""",
        encoding="utf-8",
    )
    return path


async def test_a_temporal_toml_profile_connects_the_same_way(
    mtls_frontend: TlsProxy, pki: Pki, tmp_path: Path
) -> None:
    toml = write_profile(tmp_path / "temporal.toml", mtls_frontend, pki, pki.client)
    env = {"TEMPORAL_CONFIG_FILE": str(toml), "TEMPORAL_PROFILE": "production"}

    assert await namespace_of(await connect(env)) == "default"
    assert set(mtls_frontend.client_cns) == {WORKER_CN}


async def test_environment_variables_override_the_profile(
    mtls_frontend: TlsProxy, pki: Pki, tmp_path: Path
) -> None:
    # A profile naming the wrong certificate: the variables (e.g. a mounted secret) win.
    toml = write_profile(tmp_path / "temporal.toml", mtls_frontend, pki, pki.intruder)
    env = {
        "TEMPORAL_CONFIG_FILE": str(toml),
        "TEMPORAL_PROFILE": "production",
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(pki.client.cert),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pki.client.key),
    }

    assert await namespace_of(await connect(env)) == "default"
    assert set(mtls_frontend.client_cns) == {WORKER_CN}


# --- API keys (Temporal Cloud) --------------------------------------------------------------


def test_an_api_key_alone_turns_tls_on_against_the_systems_roots(
    no_config_file: dict[str, str],
) -> None:
    env = {
        "TEMPORAL_ADDRESS": "eu-west-1.aws.api.temporal.io:7233",
        "TEMPORAL_NAMESPACE": "returns.a1b2c",
        "TEMPORAL_API_KEY": "an-api-key",
        **no_config_file,
    }

    assert connect_config(env) == {
        "target_host": "eu-west-1.aws.api.temporal.io:7233",
        "namespace": "returns.a1b2c",
        "api_key": "an-api-key",
        "tls": True,  # no TEMPORAL_TLS=true needed
    }
    # Only an explicit TEMPORAL_TLS=false sends the key in clear (e.g. to a TLS sidecar).
    assert connect_config({**env, "TEMPORAL_TLS": "false"})["tls"] is False


async def test_the_api_key_travels_as_a_bearer_token_inside_tls(
    api_key_frontend: TlsProxy, pki: Pki, no_config_file: dict[str, str]
) -> None:
    api_key = f"rf-test-{secrets.token_hex(12)}"
    env = {
        "TEMPORAL_ADDRESS": api_key_frontend.address,
        "TEMPORAL_NAMESPACE": "default",
        "TEMPORAL_API_KEY": api_key,
        # Only because this frontend's CA is not a public one, unlike Temporal Cloud's.
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
        **no_config_file,
    }

    assert await namespace_of(await connect(env)) == "default"

    assert api_key_frontend.accepted >= 1 and api_key_frontend.client_cns == []
    # HTTP/2 carries header values Huffman-coded (HPACK), so that is what the decrypted
    # stream holds: the `authorization` header's value.
    assert hpack_huffman(f"Bearer {api_key}") in api_key_frontend.received


# HPACK's static Huffman code (RFC 7541, appendix B) of the few characters the test needs.
_HUFFMAN: dict[str, tuple[int, int]] = {
    " ": (0x14, 6), "-": (0x16, 6), "B": (0x5D, 7),
    "0": (0x0, 5), "1": (0x1, 5), "2": (0x2, 5), "3": (0x19, 6), "4": (0x1A, 6),
    "5": (0x1B, 6), "6": (0x1C, 6), "7": (0x1D, 6), "8": (0x1E, 6), "9": (0x1F, 6),
    "a": (0x3, 5), "b": (0x23, 6), "c": (0x4, 5), "d": (0x24, 6), "e": (0x5, 5),
    "f": (0x25, 6), "r": (0x2C, 6), "s": (0x8, 5), "t": (0x9, 5),
}  # fmt: skip


def hpack_huffman(text: str) -> bytes:
    bits, count = 0, 0
    for char in text:
        code, length = _HUFFMAN[char]
        bits, count = (bits << length) | code, count + length
    padding = -count % 8  # the padding is the EOS code's first bits: all ones
    bits, count = (bits << padding) | ((1 << padding) - 1), count + padding
    return bits.to_bytes(count // 8, "big")


def test_the_huffman_code_is_hpacks() -> None:
    # RFC 7541's examples C.6.1 and C.6.2 (":status" 302 and 307, the latter with padding).
    assert hpack_huffman("302") == bytes.fromhex("6402")
    assert hpack_huffman("307") == bytes.fromhex("640eff")
