"""The Redis broker honours its URL on every connection it opens, against real servers.

Each server is a redis-server from tests/cluster_util.py on a free loopback
port, set up for the test with CONFIG SET / ACL SETUSER (a password, a user,
TLS only) and stopped at the end. A chat message takes the lean connection
(resp.py) and most other calls redis-py's pool, so each test makes the
broker use both: a room is created through redis-py, a message is numbered
by the send script on the lean connection and heard through the subscriber.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from bridgechat.broker import Said
from bridgechat.broker.redis import RedisBroker, RedisStartError
from bridgechat.core.room import Room, RoomMeta
from broker_inbox import Inbox
from cluster_util import RedisServer, free_port, redis_binary


async def eventually(inbox: Inbox, want: tuple[str, str, object], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while want not in inbox.got:
        assert time.monotonic() < deadline, f"{want} never arrived; got {inbox.got}"
        await asyncio.sleep(0.01)


def new_server(tmp_path: Path) -> tuple[RedisServer, redis.Redis]:
    """A redis-server (cluster_util's) and an admin client on one kept connection."""
    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed (CI installs it)")
    srv = RedisServer(binary, tmp_path / "redis").start()
    admin = redis.Redis(host="127.0.0.1", port=srv.port, single_connection_client=True)
    return srv, admin


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, redis.Redis]]:
    srv, admin = new_server(tmp_path)
    yield srv.port, admin
    admin.close()
    srv.stop()


async def works_end_to_end(url: str) -> None:
    """Start a broker on `url`, number a message and hear it delivered, then close it."""
    inbox = Inbox()
    b = RedisBroker(url, "n1", history=5)
    await b.start(inbox)
    try:
        assert await b.ready()
        await b.fanout.subscribe("m2")
        await b.rooms.create_room(
            Room.open("r1", "home", [("m1", "Calm Heron"), ("m2", "Brave Fox")], 0.0),
            RoomMeta("home", "Home?", {}, ()))
        got = b.rooms.send_soon("r1", "m1", "c1", "t1", "over the wire")
        accepted = got if not isinstance(got, asyncio.Future) else await got
        assert (accepted.seq, accepted.fresh) == (1, True)
        await eventually(inbox, ("hear", "m2", Said("r1", 1, "Calm Heron", "t1", "over the wire")))
        await b.fanout.publish(["m2"], b'{"type":"thanks"}')
        await eventually(inbox, ("deliver", "m2", b'{"type":"thanks"}'))
        assert await b.rooms.replay("r1", 0, 1000) == (
            [Said("r1", 1, "Calm Heron", "t1", "over the wire")], True)
    finally:
        await b.close()


async def refused_at_start(url: str) -> str:
    b = RedisBroker(url, "n1")
    with pytest.raises(RedisStartError) as e:
        await b.start(Inbox())
    await b.close()
    return str(e.value)


# -- AUTH ----------------------------------------------------------------------------


async def test_a_password_signs_in_both_kinds_of_connection(server) -> None:
    port, admin = server
    admin.config_set("requirepass", "s3cret pass")
    await works_end_to_end(f"redis://:s3cret%20pass@127.0.0.1:{port}/0")


async def test_an_acl_user_signs_in_with_its_name(server) -> None:
    port, admin = server
    admin.execute_command("ACL", "SETUSER", "alice", "on", ">alice-pw", "~*", "&*", "+@all")
    admin.config_set("requirepass", "default-pw")  # the default user has another password
    await works_end_to_end(f"redis://alice:alice-pw@127.0.0.1:{port}/0")
    # Without the name, the same password is the default user's, and wrong.
    said = await refused_at_start(f"redis://:alice-pw@127.0.0.1:{port}/0")
    assert "password was refused" in said and "WRONGPASS" in said


async def test_a_wrong_password_is_a_clear_error_at_start(server) -> None:
    port, admin = server
    admin.config_set("requirepass", "right-pw")
    said = await refused_at_start(f"redis://:wrong-pw@127.0.0.1:{port}/0")
    assert f"redis://127.0.0.1:{port}/0" in said and "password was refused (AUTH)" in said
    assert "wrong-pw" not in said and "right-pw" not in said
    said = await refused_at_start(f"redis://127.0.0.1:{port}/0")  # no password at all
    assert "NOAUTH" in said


# -- the database number ----------------------------------------------------------------


@pytest.mark.parametrize("where", ["/3", "/0?db=3"])
async def test_data_lands_in_the_database_the_url_names(server, where: str) -> None:
    port, _ = server
    await works_end_to_end(f"redis://127.0.0.1:{port}{where}")
    db3 = redis.Redis(host="127.0.0.1", port=port, db=3)
    db0 = redis.Redis(host="127.0.0.1", port=port, db=0)
    try:
        # bc:room is written through redis-py; bc:hist and bc:idq by the send script,
        # which runs on the lean connection.
        assert {k for k in db3.keys("bc:*") if b":r1" in k} >= {
            b"bc:room:r1", b"bc:hist:r1", b"bc:idq:r1:m1", b"bc:meta:r1"}
        assert db0.keys("bc:*") == []
    finally:
        db3.close()
        db0.close()


async def test_a_database_the_server_lacks_is_a_clear_error(server) -> None:
    port, _ = server
    said = await refused_at_start(f"redis://127.0.0.1:{port}/99")
    assert "database 99 was refused (SELECT)" in said


# -- ready ---------------------------------------------------------------------------


async def test_ready_is_false_when_the_lean_connection_cannot_reach_redis(server) -> None:
    """redis-py's pool still answers; the connection chat messages take does not."""
    port, admin = server
    b = RedisBroker(f"redis://127.0.0.1:{port}/0", "n1")
    await b.start(Inbox())
    try:
        assert await b.ready()
        lean = await b.link.call("CLIENT", "ID")
        admin.execute_command("CLIENT", "KILL", "ID", lean)
        # No new connection is let in; the ones open stay open.
        admin.config_set("maxclients", admin.info("clients")["connected_clients"])
        assert await b.link.client.ping()  # what redis-py alone would have said
        assert not await b.ready()
        admin.config_set("maxclients", 10000)
        assert await b.ready()  # and back
    finally:
        await b.close()


# -- TLS -----------------------------------------------------------------------------


def make_pki(where: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, in PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str,
             signer: ec.EllipticCurvePrivateKey, ca: bool,
             extra: list[x509.ExtensionType]) -> x509.Certificate:
        b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(minutes=5))
             .not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            b = b.add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                critical=False)
        for e in extra:
            b = b.add_extension(e, critical=False)
        return b.sign(signer, hashes.SHA256())

    def write(stem: str, c: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        (where / f"{stem}.pem").write_bytes(c.public_bytes(serialization.Encoding.PEM))
        (where / f"{stem}.key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    where.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("bridgechat test CA", ca_key, "bridgechat test CA", ca_key, True, [])
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(
        ec.SECP256R1())
    server = cert("127.0.0.1", server_key, "bridgechat test CA", ca_key, False, [
        x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), aki])
    client = cert("bridgechat node", client_key, "bridgechat test CA", ca_key, False, [
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), aki])
    write("ca", ca, ca_key)
    write("server", server, server_key)
    write("client", client, client_key)
    return {n: where / n for n in ("ca.pem", "server.pem", "server.key", "client.pem",
                                    "client.key")}


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, dict[str, Path], redis.Redis]]:
    """A redis-server that speaks TLS only (its plain port closed), on a free port.

    cluster_util starts it; CONFIG SET then turns on TLS (no client certificates
    asked for, as --tls-auth-clients no) and closes the plain port (--port 0)."""
    pki = make_pki(tmp_path / "pki")
    srv, admin = new_server(tmp_path)
    tls_port = free_port()
    admin.config_set("tls-cert-file", str(pki["server.pem"]))
    admin.config_set("tls-key-file", str(pki["server.key"]))
    admin.config_set("tls-ca-cert-file", str(pki["ca.pem"]))
    admin.config_set("tls-auth-clients", "no")
    admin.config_set("tls-port", tls_port)
    admin.config_set("port", 0)  # the admin connection, already open, stays
    yield tls_port, pki, admin
    admin.close()
    srv.stop()


async def test_tls_with_the_ca_works_end_to_end(tls_server) -> None:
    port, pki, _ = tls_server
    await works_end_to_end(f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={pki['ca.pem']}")


async def test_tls_without_the_ca_is_refused_at_start(tls_server) -> None:
    port, _, _ = tls_server
    said = await refused_at_start(f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=required")
    assert "TLS" in said and "does not verify" in said and "ssl_ca_certs" in said


async def test_tls_to_a_host_the_certificate_does_not_name_is_refused(tls_server) -> None:
    port, pki, _ = tls_server
    # The certificate names 127.0.0.1, not localhost.
    said = await refused_at_start(f"rediss://localhost:{port}/0?ssl_ca_certs={pki['ca.pem']}")
    assert "does not verify" in said and "localhost" in said


async def test_tls_unverified_when_asked(tls_server) -> None:
    port, _, _ = tls_server
    await works_end_to_end(f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=none")


async def test_a_plain_connection_to_a_tls_only_server_fails_at_start(tls_server) -> None:
    port, _, _ = tls_server
    said = await refused_at_start(f"redis://127.0.0.1:{port}/0")
    assert f"redis://127.0.0.1:{port}/0" in said and "TLS-only" in said


async def test_tls_client_certificate_when_the_server_asks_for_one(tls_server) -> None:
    port, pki, admin = tls_server
    admin.config_set("tls-auth-clients", "yes")
    ca = f"ssl_ca_certs={pki['ca.pem']}"
    said = await refused_at_start(f"rediss://127.0.0.1:{port}/0?{ca}")
    assert "client certificate" in said
    await works_end_to_end(f"rediss://127.0.0.1:{port}/0?{ca}"
                           f"&ssl_certfile={pki['client.pem']}&ssl_keyfile={pki['client.key']}")


async def test_tls_with_a_password_and_a_database(tls_server) -> None:
    port, pki, admin = tls_server
    admin.config_set("requirepass", "tls-pw")
    await works_end_to_end(f"rediss://:tls-pw@127.0.0.1:{port}/2?ssl_ca_certs={pki['ca.pem']}")
    assert admin.execute_command("SELECT", 2) and admin.exists("bc:hist:r1") == 1

