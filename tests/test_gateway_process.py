"""``provlineage gateway`` as its own process: graceful shutdown, slow clients, one process per SQLite store,
and one-line errors for bad configs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from provlineage.errors import ConfigError
from provlineage.gateway.slow_heads import TIMEOUT_ANSWER
from provlineage.gateway.store import open_store

from fixtures.gateway import Chain, Party, gateway_config, start_process, stop_process, wait_ready, write_config

PROVLINEAGE = str(Path(sys.executable).parent / "provlineage")


def _request_head(api_key: str, length: int) -> bytes:
    return (
        f"POST /api/v1/lineage HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _response(connection: socket.socket) -> bytes:
    """One whole HTTP response (head and Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def _status(connection: socket.socket) -> int:
    return int(_response(connection).split(b" ", 2)[1])


def test_sigterm_finishes_the_request_in_flight(tmp_path: Path, parties: dict[str, Party]) -> None:
    config = gateway_config(tmp_path, parties)
    process = start_process(write_config(tmp_path, config), config["port"])
    body = Chain(parties["train"]).next().encode()
    with socket.create_connection(("127.0.0.1", config["port"]), timeout=30) as connection:
        connection.sendall(_request_head(parties["train"].api_key, len(body)) + body[:100])
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)  # the producer is still sending its body
        time.sleep(0.5)
        assert process.poll() is None  # waiting for the request in flight
        connection.sendall(body[100:])
        assert _status(connection) == 201
    code, log = stop_process(process)
    assert code == 0, log[-2000:]
    assert '"event": "stopped"' in log
    store = open_store(config["store"])
    try:
        assert [row[1] for row in store.accepted_events()] == [1]
    finally:
        store.close()


def test_slow_body_gets_408_and_others_are_served(tmp_path: Path, parties: dict[str, Party]) -> None:
    config = gateway_config(tmp_path, parties, limits={"read_timeout": 1.0})
    process = start_process(write_config(tmp_path, config), config["port"])
    try:
        with socket.create_connection(("127.0.0.1", config["port"]), timeout=30) as slow:
            slow.sendall(_request_head(parties["train"].api_key, 5000) + b'{"run": ')
            with socket.create_connection(("127.0.0.1", config["port"]), timeout=30) as fast:
                body = Chain(parties["train"]).next().encode()
                fast.sendall(_request_head(parties["train"].api_key, len(body)) + body)
                assert _status(fast) == 201
            answer = _response(slow)
            assert answer.startswith(b"HTTP/1.1 408") and b'"error":"timeout"' in answer
    finally:
        code, log = stop_process(process)
    assert code == 0, log[-2000:]


def test_a_second_process_on_one_sqlite_store_is_refused(tmp_path: Path, parties: dict[str, Party]) -> None:
    config = gateway_config(tmp_path, parties)
    process = start_process(write_config(tmp_path, config), config["port"])
    try:
        second = tmp_path / "second"
        second.mkdir()
        other = write_config(second, {**config, "port": config["port"] + 1})
        done = subprocess.run(
            [PROVLINEAGE, "gateway", "--config", str(other)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2
        assert "another gateway process already serves" in done.stderr and "postgresql://" in done.stderr
        wait_ready(f"http://127.0.0.1:{config['port']}")  # the first one is unaffected
    finally:
        stop_process(process)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"producers": [{"name": "x", "api_key_sha256": "plaintext-key", "namespaces": ["a"]}]}, "api_key_sha256"),
        ({"store": "mysql://db"}, "store"),
        ({"limtis": {}}, "unknown keys ['limtis']"),
        ({"forward": {"spool_dir": "/tmp/x"}}, "forward.transport"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, parties: dict[str, Party], change, named: str) -> None:
    path = write_config(tmp_path, {**gateway_config(tmp_path, parties), **change})
    done = subprocess.run([PROVLINEAGE, "gateway", "--config", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and named in done.stderr, done.stderr


def test_hash_key_matches_what_the_gateway_accepts() -> None:
    from provlineage.gateway.auth import hash_api_key

    made = subprocess.run([PROVLINEAGE, "gateway", "hash-key", "--new"], capture_output=True, text=True, timeout=60)
    key = made.stdout.splitlines()[0].rsplit(" ", 1)[1]
    assert made.stdout.splitlines()[1] == f"api_key_sha256: {hash_api_key(key)}"
    piped = subprocess.run(
        [PROVLINEAGE, "gateway", "hash-key"], input=key + "\n", capture_output=True, text=True, timeout=60
    )
    assert piped.stdout.strip() == f"api_key_sha256: {hash_api_key(key)}"


def test_missing_extra_names_the_install_command() -> None:
    from provlineage.cli.gateway import _need

    with pytest.raises(ConfigError, match=r"pip install 'provlineage\[gateway\]'"):
        _need("provlineage_no_such_module")


def test_example_config_is_valid(tmp_path: Path) -> None:
    import shutil

    from provlineage.gateway.config import load_config
    from provlineage.keys import write_key_pair

    example = Path(__file__).resolve().parents[1] / "examples" / "gateway.yml"
    shutil.copy(example, tmp_path / "gateway.yml")
    for name in ("training", "serving"):
        write_key_pair(tmp_path / name, "ed25519")
        (tmp_path / "keys").mkdir(exist_ok=True)
        shutil.copy(tmp_path / name / "public_key.pem", tmp_path / "keys" / f"{name}.pub.pem")
    config = load_config(tmp_path / "gateway.yml")
    assert config.forward.transport["type"] == "http" and len(config.producers) == 2
    assert config.store == f"sqlite:///{tmp_path / 'state' / 'gateway.db'}"
    assert all(len(producer.key_ids) == 1 for producer in config.producers)


def test_connections_over_the_limit_get_503(tmp_path: Path, parties: dict[str, Party]) -> None:
    config = gateway_config(tmp_path, parties, limits={"max_connections": 2, "read_timeout": 30})
    process = start_process(write_config(tmp_path, config), config["port"])
    body = Chain(parties["train"]).next().encode()
    try:
        held = [socket.create_connection(("127.0.0.1", config["port"]), timeout=30) for _ in range(2)]
        for connection in held:
            connection.sendall(_request_head(parties["train"].api_key, len(body)) + body[:10])
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", config["port"]), timeout=30) as extra:
            extra.sendall(_request_head(parties["train"].api_key, len(body)) + body)
            assert _status(extra) == 503
        held[0].sendall(body[10:])
        assert _status(held[0]) == 201  # the held requests complete normally
        for connection in held:
            connection.close()
    finally:
        code, log = stop_process(process)
    assert code == 0, log[-2000:]


def test_no_config_is_one_line() -> None:
    env = {key: value for key, value in os.environ.items() if key != "PROVLINEAGE_GATEWAY_CONFIG"}
    done = subprocess.run([PROVLINEAGE, "gateway"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2 and "pass --config gateway.yml" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _self_signed(directory: Path) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, private = directory / "gateway.crt", directory / "gateway.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert, private


def test_tls_with_ssl_certfile_and_keyfile(tmp_path: Path, parties: dict[str, Party]) -> None:
    import requests

    cert, key = _self_signed(tmp_path)
    config = gateway_config(tmp_path, parties, shutdown_timeout=2)  # the plain-HTTP probe below hangs in the handshake
    process = start_process(
        write_config(tmp_path, config), config["port"], "--ssl-certfile", str(cert), "--ssl-keyfile", str(key),
        scheme="https", ca=cert,
    )  # fmt: skip
    try:
        answer = requests.post(
            f"https://127.0.0.1:{config['port']}/api/v1/lineage", data=Chain(parties["train"]).next(), verify=str(cert),
            headers={"Authorization": f"Bearer {parties['train'].api_key}", "Content-Type": "application/json"},
            timeout=30,
        )  # fmt: skip
        assert answer.status_code == 201
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{config['port']}/healthz", timeout=5)  # plain HTTP is not served
    finally:
        code, log = stop_process(process)
    assert code == 0, log[-2000:]


def test_slow_request_head_gets_408_and_the_connection_is_freed(tmp_path: Path, parties: dict[str, Party]) -> None:
    config = gateway_config(tmp_path, parties, limits={"read_timeout": 1.0, "max_connections": 1})
    process = start_process(write_config(tmp_path, config), config["port"])
    try:
        with socket.create_connection(("127.0.0.1", config["port"]), timeout=30) as slow:
            slow.sendall(b"POST /api/v1/lineage HTTP/1.1\r\nHost: gateway\r\n")  # and then nothing
            answer = _response(slow)
            assert answer.startswith(b"HTTP/1.1 408") and b"request head not received in time" in answer
            assert slow.recv(100) == b""  # closed
        body = Chain(parties["train"]).next().encode()
        with socket.create_connection(("127.0.0.1", config["port"]), timeout=30) as fine:
            fine.sendall(_request_head(parties["train"].api_key, len(body)) + body)
            assert _status(fine) == 201  # the only slot is free again
            time.sleep(1.5)  # idle after a response: closed by the keep-alive or the head deadline, not held
            fine.settimeout(10)
            assert fine.recv(65536) in (b"", TIMEOUT_ANSWER)
    finally:
        code, log = stop_process(process)
    assert code == 0, log[-2000:]
