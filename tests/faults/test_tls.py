"""``rediss://`` with a CA file: the fleet works over TLS to a real redis-server, and a
client that does not trust the server's certificate gets a clear error (a fallback for
the producer), never a silent plain-text connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from is21.ops.embedded_redis import EmbeddedRedis
from is21.producer import FrameProducer
from is21.protocol.connection import connect
from is21.schemas.settings import Settings
from tests.conftest import MODEL_DIR, Fleet, fleet_env, require_shared
from tests.samples import photo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[EmbeddedRedis, int, Path]]:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    port = free_port()
    args = (
        *("--tls-port", str(port), "--bind", "127.0.0.1"),
        *("--tls-cert-file", str(cert_file), "--tls-key-file", str(key_file)),
        *("--tls-ca-cert-file", str(ca_file), "--tls-auth-clients", "no"),
    )
    with EmbeddedRedis(extra_args=args) as server:
        yield server, port, ca_file


def test_fleet_over_tls_with_a_ca_file(
    tls_redis: tuple[EmbeddedRedis, int, Path], tmp_path: Path
) -> None:
    require_shared()
    _server, port, ca_file = tls_redis
    url = f"rediss://localhost:{port}/0?ssl_ca_certs={ca_file}"
    client = connect(url)
    assert client.ping()
    fleet = Fleet(url, fleet_env(url), [], tmp_path)
    fleet.start("tls0")
    fleet.wait_alive(client, 1)
    settings = Settings(redis_url=url, model_dir=MODEL_DIR)
    producer = FrameProducer.from_url(url, settings)
    ticket = producer.submit("tls-cam", photo("COCO_val2014_000000181586.jpg"))
    assert ticket.fallback is None, ticket.fallback
    assert producer.wait(ticket, timeout=30).primary_event == "animal"
    assert fleet.stop() == [0]

    untrusting = FrameProducer.from_url(f"rediss://localhost:{port}/0", settings)
    refused = untrusting.submit("tls-cam", photo("COCO_val2014_000000181586.jpg"))
    assert refused.fallback is not None
    assert "certificate verify failed" in (refused.fallback.error or ""), refused.fallback
