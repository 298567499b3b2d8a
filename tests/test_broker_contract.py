"""One contract, two brokers: the in-process one and Redis (a real redis-server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from server.broker import Broker
from server.broker.memory import MemoryBroker
from server.matching import Ticket
from server.protocol import Code, ProtocolError
from server.room import Room, RoomMeta


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from cluster_util import RedisServer, redis_binary

    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed (CI installs it)")
    srv = RedisServer(binary, tmp_path_factory.mktemp("redis-contract")).start()
    yield srv.url
    srv.stop()


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Broker, list[object]]]:
    got: list[tuple[str, bytes]] = []
    b: Broker
    if request.param == "memory":
        b = MemoryBroker(history=5)
    else:
        from server.broker.redis import RedisBroker

        url = request.getfixturevalue("redis_url")
        b = RedisBroker(url, node="n1", history=5)
        await b.r.flushdb()
    await b.start(lambda m, f: got.append((m, f)))
    yield b, got
    await b.close()


def ticket(tid: str, member: str) -> Ticket:
    return Ticket(id=tid, member=member, prompts=("home",), languages=("en",), since=1.0,
                  profile=(("age_band", "60+"),))


def room() -> Room:
    return Room.open("r1", "home", [("m1", "Calm Heron"), ("m2", "Brave Fox")], 0.0)


def meta() -> RoomMeta:
    return RoomMeta("home", "Home?", {"m1": ["You both chose it"]}, ("age_band",))


async def eventually(check, seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_pool_keeps_tickets_whole_and_removes_once(broker) -> None:
    b, _ = broker
    await b.add_ticket(ticket("t1", "m1"))
    await b.add_ticket(ticket("t2", "m2"))
    assert sorted(t.id for t in await b.tickets()) == ["t1", "t2"]
    got = await b.remove_ticket("t1")
    assert got == ticket("t1", "m1")
    assert await b.remove_ticket("t1") is None
    assert [t.id for t in await b.tickets()] == ["t2"]


async def test_frames_reach_subscribed_members(broker) -> None:
    b, got = broker
    await b.subscribe("m1")
    await b.publish(["m1"], b'{"type":"thanks"}')
    await eventually(lambda: ("m1", b'{"type":"thanks"}') in got)


async def test_room_changes_apply_the_room_rules(broker) -> None:
    b, _ = broker
    await b.create_room(room(), meta())
    assert await b.member_rooms("m1") == {"r1"}
    seq = await b.change_room("r1", lambda r: r.send("m1", "a", 1.0).seq)
    again = await b.change_room("r1", lambda r: r.send("m1", "a", 2.0))
    assert (seq, again.seq, again.fresh) == (1, 1, False)
    with pytest.raises(ProtocolError) as e:
        await b.change_room("r1", lambda r: r.send("stranger", "x", 1.0))
    assert e.value.code is Code.NOT_IN_ROOM
    with pytest.raises(ProtocolError) as e:
        await b.change_room("nope", lambda r: r.seq)
    assert e.value.code is Code.UNKNOWN_ROOM
    stored = await b.room("r1")
    assert stored is not None and stored.seq == 1
    assert (await b.meta("r1")) == meta()


async def test_concurrent_sends_get_distinct_gapless_seqs(broker) -> None:
    b, _ = broker
    await b.create_room(room(), meta())
    seqs = await asyncio.gather(*[
        b.change_room("r1", lambda r, i=i: r.send("m1" if i % 2 else "m2", str(i), 1.0).seq)
        for i in range(20)])
    assert sorted(seqs) == list(range(1, 21))


async def test_history_replays_in_order_and_admits_loss(broker) -> None:
    b, _ = broker
    for seq in range(1, 8):  # history keeps 5
        await b.remember("r1", seq, f'{{"seq":{seq}}}'.encode())
    frames, complete = await b.replay("r1", 4)
    assert frames == [b'{"seq":5}', b'{"seq":6}', b'{"seq":7}'] and complete
    frames, complete = await b.replay("r1", 0)
    assert len(frames) == 5 and not complete
    assert await b.replay("unknown", 0) == ([], True)


async def test_ended_room_is_forgotten_after_its_time(broker) -> None:
    b, _ = broker
    await b.create_room(room(), meta())
    await b.remember("r1", 1, b"{}")
    assert await b.open_rooms() == ["r1"]
    await b.change_room("r1", lambda r: r.close("moderator", 1.0))
    await b.end_room("r1", keep_history=1, keep_room=1)
    assert await b.open_rooms() == []
    await asyncio.sleep(1.3)
    assert await b.room("r1") is None
    assert await b.replay("r1", 0) == ([], True)


async def test_pairs_again_and_forgetting(broker) -> None:
    b, _ = broker
    await b.note_pairs([frozenset(("a", "b"))], ttl=60)
    await b.note_pairs([frozenset(("a", "c"))], ttl=-1)
    assert await b.recent_pairs() == {frozenset(("a", "b"))}
    await b.note_again(frozenset(("a", "b")))
    assert await b.again_pairs() == {frozenset(("a", "b"))}
    await b.forget_member("a")
    assert await b.recent_pairs() == set() and await b.again_pairs() == set()


async def test_franking_keys_are_shared_and_retired(broker) -> None:
    b, _ = broker
    await b.add_franking_key(b"k" * 32, 10.0)
    await b.add_franking_key(b"j" * 32, 20.0)
    keys = await b.franking_keys()
    assert sorted(keys) == [1, 2] and keys[1] == (b"k" * 32, 10.0)
    await b.retire_franking_keys(before=15.0)
    assert list(await b.franking_keys()) == [2]


async def test_leader_lock_is_held_by_one(broker) -> None:
    b, _ = broker
    assert await b.lead("n1", 5.0)
    assert await b.lead("n1", 5.0)  # renewing
    if isinstance(b, MemoryBroker):
        return  # one node: always the leader
    assert not await b.lead("n2", 5.0)


async def test_wake_times_come_due_once_and_earliest_wins(broker) -> None:
    b, _ = broker
    await b.wake_at("r1", 100.0)
    await b.wake_at("r2", 200.0)
    await b.wake_at("r2", 300.0)  # a later time does not postpone an earlier one
    assert await b.due_rooms(150.0) == ["r1"]
    assert await b.due_rooms(150.0) == []
    assert await b.due_rooms(250.0) == ["r2"]
