"""A Redis URL is read once, for redis-py's pool and the lean connections alike;
whatever in it one of them could not honour is refused, by name, before connecting."""

from __future__ import annotations

import ssl

import pytest
from bridgechat.broker.redis import RedisBroker
from bridgechat.broker.redis_url import RedisUrlError, parse_redis_url
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url


@pytest.mark.parametrize("option", ["foo", "socket_timeout", "protocol", "max_connections",
                                    "health_check_interval", "ssl_ciphers", "ssl_password"])
def test_an_option_not_honoured_everywhere_is_refused_by_name(option: str) -> None:
    with pytest.raises(RedisUrlError, match=f"redis URL option '{option}' is not supported"):
        parse_redis_url(f"rediss://127.0.0.1:6380/0?{option}=1")


def test_the_broker_refuses_such_a_url_when_made_before_any_connection() -> None:
    with pytest.raises(ValueError, match="'foo'"):
        RedisBroker("redis://127.0.0.1:1/0?foo=bar", "node")


@pytest.mark.parametrize("option", ["ssl_ca_certs=/x.pem", "ssl_cert_reqs=none",
                                    "ssl_certfile=/c.pem", "ssl_check_hostname=false"])
def test_tls_options_need_rediss(option: str) -> None:
    name = option.split("=")[0]
    with pytest.raises(RedisUrlError, match=f"'{name}' needs a rediss:// URL"):
        parse_redis_url(f"redis://127.0.0.1/0?{option}")


@pytest.mark.parametrize(("url", "db"), [("redis://h", 0), ("redis://h/", 0), ("redis://h/7", 7),
                                         ("redis://h?db=4", 4), ("redis://h/4?db=4", 4),
                                         ("redis://h/2?db=3", 3),
                                         ("unix:///run/r.sock?db=2", 2)])
def test_the_database_comes_from_the_path_or_the_db_option(url: str, db: int) -> None:
    assert parse_redis_url(url).db == db


@pytest.mark.parametrize(("url", "says"), [
    ("redis://h/zero", "is not a database number"),
    ("redis://h/0?db=-1", "option 'db' is not a database number"),
    ("redis://h/0?db=1&db=1", "'db' is given twice"),
    ("redis://h/0?db=", "'db' has no value"),
    ("rediss://h/0?ssl_cert_reqs=maybe", "'ssl_cert_reqs' must be one of"),
    ("rediss://h/0?ssl_check_hostname=perhaps", "'ssl_check_hostname' must be true or false"),
    ("rediss://h/0?ssl_keyfile=/k.pem", "'ssl_keyfile' needs 'ssl_certfile'"),
    ("rediss://h/0?ssl_ca_certs=/no/such/ca.pem", "'ssl_ca_certs'"),
    ("redis://alice@h/0", "names a user but gives no password"),
    ("http://h/0", "scheme 'http' is not supported"),
    ("redis://h:port/0", "not valid"),
])
def test_what_cannot_be_honoured_is_named(url: str, says: str) -> None:
    with pytest.raises(RedisUrlError, match=says):
        parse_redis_url(url)


def test_credentials_are_unquoted_and_never_shown() -> None:
    t = parse_redis_url("redis://al%40ice:p%40ss%3Aword@10.0.0.5:6390/2")
    assert (t.host, t.port, t.db, t.username, t.password) == (
        "10.0.0.5", 6390, 2, "al@ice", "p@ss:word")
    assert "p@ss" not in t.where and "p%40ss" not in t.where and "6390" in t.where
    assert "p@ss" not in repr(t.tls) and t.tls is None and t.context is None


@pytest.mark.parametrize("url", [
    "redis://127.0.0.1:6390/3", "redis://:pw@127.0.0.1/0", "redis://u:pw@h:1/2?db=2",
    "redis://h/2?db=3",
    "rediss://h:6380/1?ssl_ca_certs=CA&ssl_cert_reqs=required&ssl_check_hostname=false",
    "rediss://u:pw@h/0?ssl_cert_reqs=none&ssl_certfile=C&ssl_keyfile=K",
    "unix://:pw@/run/redis.sock?db=5",
])
def test_redis_py_is_given_what_its_own_parser_reads(url: str, monkeypatch) -> None:
    """Our reading agrees with redis-py's for every option we accept (files not loaded)."""
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", lambda *a, **k: None)
    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", lambda *a, **k: None)
    ours = parse_redis_url(url).redis_py_kwargs()
    theirs = dict(parse_url(url))
    if "ssl_check_hostname" in theirs:
        theirs["ssl_check_hostname"] = theirs["ssl_check_hostname"] is not False
    for key, value in theirs.items():
        assert ours[key] == value, key


def test_tls_settings_are_the_same_for_both_kinds_of_connection(tmp_path) -> None:
    verified = parse_redis_url("rediss://h/0")
    assert verified.context is not None
    assert verified.context.verify_mode == ssl.CERT_REQUIRED and verified.context.check_hostname
    assert verified.redis_py_kwargs()["connection_class"] is SSLConnection
    assert verified.redis_py_kwargs()["ssl_cert_reqs"] == "required"
    trusting = parse_redis_url("rediss://h/0?ssl_cert_reqs=none")
    assert trusting.context is not None
    assert trusting.context.verify_mode == ssl.CERT_NONE and not trusting.context.check_hostname
    assert trusting.redis_py_kwargs()["ssl_cert_reqs"] == "none"
    no_host = parse_redis_url("rediss://h/0?ssl_check_hostname=false")
    assert no_host.context is not None and not no_host.context.check_hostname
    assert no_host.redis_py_kwargs()["ssl_check_hostname"] is False
    unix = parse_redis_url("unix:///run/r.sock")
    assert unix.redis_py_kwargs()["connection_class"] is UnixDomainSocketConnection
    assert unix.path == "/run/r.sock" and unix.context is None
