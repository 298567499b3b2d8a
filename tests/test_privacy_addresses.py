"""The address hasher: a stable key for a day, then nothing links it to an address."""

from __future__ import annotations

import hashlib
import hmac
import itertools

from bridgechat.privacy.addresses import DAY, AddressHasher, normalise

NOON = 20_000 * DAY + DAY / 2  # some UTC noon


def counting_salts() -> tuple[AddressHasher, list[bytes]]:
    made: list[bytes] = []
    counter = itertools.count()

    def salt(n: int) -> bytes:
        made.append(next(counter).to_bytes(n, "big"))
        return made[-1]

    return AddressHasher(salt=salt), made


def test_same_address_same_day_same_key() -> None:
    h = AddressHasher()
    assert h.hash("203.0.113.7", NOON) == h.hash("203.0.113.7", NOON + 3600)
    assert h.hash("203.0.113.7", NOON) != h.hash("203.0.113.8", NOON)


def test_key_is_an_hmac_that_does_not_contain_the_address() -> None:
    h, salts = counting_salts()
    key = h.hash("198.51.100.23", NOON)
    assert key == hmac.new(salts[0], b"198.51.100.23", hashlib.sha256).hexdigest()
    assert "198.51.100.23" not in key and len(key) == 64


def test_salt_changes_at_midnight_utc_and_old_keys_cannot_be_remade() -> None:
    h, salts = counting_salts()
    today = h.hash("203.0.113.7", NOON)
    tomorrow = h.hash("203.0.113.7", NOON + DAY)
    assert today != tomorrow and len(salts) == 2
    # Going back in time does not bring yesterday's salt back: it is gone.
    assert h.hash("203.0.113.7", NOON) not in (today, tomorrow)


def test_forget_drops_a_stale_salt_without_a_request() -> None:
    h, salts = counting_salts()
    h.hash("203.0.113.7", NOON)
    assert h.forget(NOON + 60) is False  # still today's
    assert h.forget(NOON + DAY) is True
    assert h.forget(NOON + DAY) is False
    h.hash("203.0.113.7", NOON + DAY)
    assert len(salts) == 2


def test_normalise_spellings_and_ipv6_prefix() -> None:
    assert normalise(" 203.0.113.7 ") == "203.0.113.7"
    assert normalise("::ffff:203.0.113.7") == "203.0.113.7"
    assert normalise("2001:db8::1") == normalise("2001:DB8:0:0:ffff::2") == "2001:db8::/64"
    assert normalise("2001:db8:0:1::1") != normalise("2001:db8::1")
    assert normalise("not an address") == "not an address"
