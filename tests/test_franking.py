import os

from bridgechat.core.franking import FrankingKeys
from hypothesis import given
from hypothesis import strategies as st


def keys() -> FrankingKeys:
    k = FrankingKeys()
    k.rotate(os.urandom(32), now=0.0)
    return k


def test_tag_verifies_exactly_what_was_sent() -> None:
    k = keys()
    tag = k.tag("room1", 3, "Calm Heron", "2026-11-25T10:00:00.000Z", "hello there")
    assert k.verify("room1", 3, "Calm Heron", "2026-11-25T10:00:00.000Z", "hello there", tag)


@given(field=st.sampled_from(["room", "seq", "sender", "ts", "text"]))
def test_changing_any_field_breaks_the_tag(field: str) -> None:
    k = keys()
    msg = {"room": "r", "seq": 1, "sender": "A", "ts": "t", "text": "you are kind"}
    tag = k.tag(**msg)  # type: ignore[arg-type]
    forged = dict(msg)
    forged[field] = 2 if field == "seq" else str(msg[field]) + "!"
    assert not k.verify(**forged, tag=tag)  # type: ignore[arg-type]


def test_fields_cannot_be_shifted_between_each_other() -> None:
    k = keys()
    tag = k.tag("r", 1, "A", "t", "bc")
    assert not k.verify("r", 1, "Ab", "t", "c", tag)


def test_garbage_tags_are_rejected_not_raised() -> None:
    k = keys()
    for bad in ["", "!!!", "a", "AAAA", "x" * 200]:
        assert not k.verify("r", 1, "A", "t", "x", bad)


def test_rotation_keeps_old_tags_until_the_key_is_retired() -> None:
    k = keys()
    old = k.tag("r", 1, "A", "t", "x")
    k.rotate(os.urandom(32), now=100.0)
    assert k.verify("r", 1, "A", "t", "x", old)
    assert k.retire_before(50.0) == [1]
    assert not k.verify("r", 1, "A", "t", "x", old)
    assert k.verify("r", 2, "A", "t", "y", k.tag("r", 2, "A", "t", "y"))


def test_a_tag_from_another_server_does_not_verify() -> None:
    assert not keys().verify("r", 1, "A", "t", "x", keys().tag("r", 1, "A", "t", "x"))


@given(text=st.text(max_size=300), seq=st.integers(min_value=0, max_value=2**40))
def test_tag_is_standard_hmac_sha256_of_the_canonical_fields(text: str, seq: int) -> None:
    """Outside verifiers recompute tags with any HMAC library: the fast path must agree."""
    import base64
    import hashlib
    import hmac
    import json

    k = keys()
    for _ in range(2):  # and again under a rotated key: the cached key state follows
        tag = k.tag("room9", seq, "Calm Heron", "2026-11-25T10:00:00.000Z", text)
        raw = base64.urlsafe_b64decode(tag + "=" * (-len(tag) % 4))
        fields = json.dumps(["room9", seq, "Calm Heron", "2026-11-25T10:00:00.000Z", text],
                            separators=(",", ":"), ensure_ascii=False).encode()
        want = hmac.new(k.keys[k.current], fields, hashlib.sha256).digest()
        assert raw == k.current.to_bytes(4, "big") + want
        assert tag == base64.urlsafe_b64encode(raw).decode().rstrip("=")  # base64url, no padding
        k.rotate(os.urandom(80), now=1.0)  # longer than a SHA-256 block, too
