"""core/extension.py without sockets: the rule of extending a room by mutual consent."""

from __future__ import annotations

import msgspec
import pytest
from bridgechat.core import extension, protocol
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import Room, RoomMeta


def room(n: int = 2) -> tuple[Room, RoomMeta]:
    r = Room.open("r1", "home", [(f"m{i}", f"Alias {i}") for i in range(1, n + 1)], now=100.0)
    return r, RoomMeta("home", "Home?", {}, (), ends_at=100.0 + 1200.0)


def refused(r: Room, meta: RoomMeta, member: str, now: float = 200.0) -> Code:
    with pytest.raises(ProtocolError) as e:
        extension.vote(r, meta, member, True, now)
    return e.value.code


def test_one_ask_waits_for_the_other_then_the_set_length_is_added_once() -> None:
    r, meta = room()
    assert extension.vote(r, meta, "m1", True, 200.0) == extension.Vote(changed=True)
    assert meta.ends_at == 1300.0 and meta.extend == ["m1"]
    assert extension.vote(r, meta, "m2", True, 201.0) == extension.Vote(True, 2500.0)
    assert (meta.ends_at, meta.extended, meta.extend) == (2500.0, True, [])
    assert refused(r, meta, "m1") is Code.NOT_EXTENDABLE


def test_asking_twice_is_no_news_and_a_no_clears_every_ask() -> None:
    r, meta = room()
    assert extension.vote(r, meta, "m1", True, 200.0).changed
    assert not extension.vote(r, meta, "m1", True, 201.0).changed
    # Taken back by the asker: news; again: not.
    assert extension.vote(r, meta, "m1", False, 202.0) == extension.Vote(changed=True)
    assert not extension.vote(r, meta, "m1", False, 203.0).changed
    # The other's answer "no" clears the ask: both must ask again.
    extension.vote(r, meta, "m1", True, 204.0)
    assert extension.vote(r, meta, "m2", False, 205.0) == extension.Vote(changed=True)
    assert meta.extend == []
    assert extension.vote(r, meta, "m2", True, 206.0) == extension.Vote(changed=True)
    assert meta.ends_at == 1300.0 and not meta.extended


def test_everyone_seated_must_agree_and_who_left_does_not_count() -> None:
    r, meta = room(3)
    extension.vote(r, meta, "m1", True, 200.0)
    assert extension.vote(r, meta, "m2", True, 201.0).ends_at is None
    r.leave("m3", "left", 202.0)
    assert refused(r, meta, "m3") is Code.NOT_IN_ROOM
    r2, meta2 = room(3)
    r2.drop("m3", 200.0, 60.0)  # away still counts: the room waits for them
    extension.vote(r2, meta2, "m1", True, 201.0)
    assert extension.vote(r2, meta2, "m2", True, 202.0).ends_at is None
    assert extension.vote(r2, meta2, "m3", True, 203.0).ends_at == 2500.0


def test_no_set_length_time_up_or_a_closed_room_is_refused() -> None:
    r, meta = room()
    meta.ends_at = None
    assert refused(r, meta, "m1") is Code.NOT_EXTENDABLE
    r, meta = room()
    assert refused(r, meta, "m1", now=1300.0) is Code.NOT_EXTENDABLE
    r, meta = room()
    r.close("moderator", 150.0)
    assert refused(r, meta, "m1") is Code.ROOM_CLOSED
    assert refused(r, meta, "nobody") is Code.NOT_IN_ROOM
    assert meta.extend == []


def test_frames_and_a_meta_from_before_the_extension_fields() -> None:
    frame = protocol.decode('{"type":"extend","room":"r1"}')
    assert isinstance(frame, protocol.Extend) and frame.agree is True
    assert protocol.decode('{"type":"extend","room":"r1","agree":false}') == \
        protocol.Extend(room="r1", agree=False)
    with pytest.raises(ProtocolError) as e:
        protocol.decode('{"type":"extend","room":"r1","agree":"yes"}')
    assert e.value.code is Code.BAD_FRAME
    out = msgspec.json.decode(protocol.encode(extension.ExtendOut(room="r1", agree=True,
                                                                  from_="Calm Heron")))
    assert out == {"type": "extend", "room": "r1", "agree": True, "from": "Calm Heron"}
    assert msgspec.json.decode(protocol.encode(extension.Extended(room="r1", ends_at="T"))) \
        == {"type": "extended", "room": "r1", "ends_at": "T"}
    # A meta stored by a node of the version before (Redis) still reads.
    old = msgspec.json.encode(RoomMeta("home", "Home?", {}, ()))
    raw = msgspec.json.decode(old)
    del raw["extend"], raw["extended"]
    meta = msgspec.json.decode(msgspec.json.encode(raw), type=RoomMeta)
    assert meta.extend == [] and meta.extended is False
