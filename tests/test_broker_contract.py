"""One contract, two brokers: the in-process one and Redis (a real redis-server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from bridgechat.broker import Broker, Said
from bridgechat.broker.memory import MemoryBroker
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import Accepted, Room, RoomMeta
from bridgechat.matching import Ticket


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
    # Frames as (member, bytes); messages as (member, Said).
    got: list[tuple[str, object]] = []
    b: Broker
    if request.param == "memory":
        b = MemoryBroker(history=5)
    else:
        from bridgechat.broker.redis import RedisBroker

        url = request.getfixturevalue("redis_url")
        b = RedisBroker(url, node="n1", history=5)
        await b.r.flushdb()
    await b.start(lambda m, f: got.append((m, f)),
                  lambda members, said: got.extend((m, said) for m in members))
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
    away = await b.change_room("r1", lambda r: r.drop("m2", 1.0, 60.0))
    assert away and (await b.room("r1")).seats["m2"].state.value == "away"
    with pytest.raises(ProtocolError) as e:
        await b.change_room("r1", lambda r: r.leave("stranger", "left", 1.0))
    assert e.value.code is Code.NOT_IN_ROOM
    with pytest.raises(ProtocolError) as e:
        await b.change_room("nope", lambda r: r.seq)
    assert e.value.code is Code.UNKNOWN_ROOM
    assert (await b.meta("r1")) == meta()


async def test_send_numbers_once_keeps_and_tells_only_the_others(broker) -> None:
    b, got = broker
    await b.subscribe("m1")
    await b.subscribe("m2")
    await b.create_room(room(), meta())
    first = await b.send("r1", "m1", "a", "t1", "hello there")
    again = await b.send("r1", "m1", "a", "t2", "hello there")
    assert (first.seq, first.ts, first.fresh) == (1, "t1", True)
    assert (again.seq, again.ts, again.fresh) == (1, "t1", False)
    said = Said("r1", 1, "Calm Heron", "t1", "hello there")
    await eventually(lambda: ("m2", said) in got)
    await asyncio.sleep(0.1)
    assert got == [("m2", said)]  # once, and never to the sender
    assert (await b.room("r1")).seq == 1
    assert await b.replay("r1", 0) == ([said], True)


async def test_send_refuses_as_the_room_rules_say(broker) -> None:
    b, _ = broker
    await b.create_room(room(), meta())
    await b.send("r1", "m1", "a", "t1", "one")
    for args, code in ((("nope", "m1", "x"), Code.UNKNOWN_ROOM),
                       (("r1", "stranger", "x"), Code.NOT_IN_ROOM)):
        with pytest.raises(ProtocolError) as e:
            await b.send(*args, "t2", "two")
        assert e.value.code is code
    with pytest.raises(ProtocolError) as e:
        await b.send("r1", "m1", "b", "t2", "two", allowed=False)
    assert (e.value.code, e.value.ref) == (Code.RATE_LIMITED, "b")
    # Over the limit, a resend is still answered with its first number.
    assert (await b.send("r1", "m1", "a", "t3", "one", allowed=False)).seq == 1
    await b.change_room("r1", lambda r: r.leave("m2", "left", 2.0))
    with pytest.raises(ProtocolError) as e:
        await b.send("r1", "m1", "c", "t4", "three")
    assert e.value.code is Code.ROOM_CLOSED
    with pytest.raises(ProtocolError) as e:
        await b.send("r1", "m2", "d", "t4", "four")
    assert e.value.code is Code.NOT_IN_ROOM
    assert (await b.room("r1")).seq == 1


async def test_concurrent_sends_get_distinct_gapless_seqs(broker) -> None:
    b, _ = broker
    await b.create_room(room(), meta())
    got = await asyncio.gather(*[
        b.send("r1", "m1" if i % 2 else "m2", str(i), "t", "hi") for i in range(20)])
    assert sorted(a.seq for a in got) == list(range(1, 21))


async def settle(begun: Accepted | asyncio.Future[Accepted]) -> Accepted:
    return begun if isinstance(begun, Accepted) else await begun


async def test_sends_begun_in_turn_are_numbered_in_turn(broker) -> None:
    """`send_soon`, the path every chat message takes: begun at once, in order."""
    b, got = broker
    await b.subscribe("m2")
    await b.create_room(room(), meta())
    await b.send("r1", "m1", "first", "t0", "first")  # on Redis: the lean connection is up
    begun = [b.send_soon("r1", "m1", f"s{i}", "t", f"text {i}") for i in range(10)]
    begun.append(b.send_soon("r1", "m1", "s3", "t", "text 3"))  # resent before its answer
    done = [await settle(x) for x in begun]
    assert [a.seq for a in done] == [*range(2, 12), 5]
    assert [a.fresh for a in done] == [True] * 10 + [False]
    with pytest.raises(ProtocolError) as e:
        await settle(b.send_soon("nope", "m1", "x", "t", "lost"))
    assert e.value.code is Code.UNKNOWN_ROOM
    with pytest.raises(ProtocolError) as e:
        await settle(b.send_soon("r1", "m1", "y", "t", "over", allowed=False))
    assert (e.value.code, e.value.ref) == (Code.RATE_LIMITED, "y")
    await eventually(lambda: len(got) == 11)
    assert [(m, s.seq, s.text) for m, s in got] == [
        ("m2", 1, "first"), *(("m2", i + 2, f"text {i}") for i in range(10))]


def test_the_kept_parts_of_the_send_command_pack_as_the_whole() -> None:
    from bridgechat.broker.redis import RedisBroker
    from bridgechat.broker.resp import pack

    r = RedisBroker("redis://127.0.0.1:1/0", "node")  # connects to nothing until started
    for room_id, member, cid, text, allowed in (("r1", "m1", "a", "hi", True),
                                                ("r1", "m1", "b", "é\n\"x\"", False),
                                                ("r2", "m1", "c", "x" * 2000, True)):
        whole = pack(("EVALSHA", *r._send_cmd(room_id, member, cid, "ts", text, allowed)))
        assert r._send_wire(room_id, member, cid, "ts", text, allowed) == whole


async def test_a_room_remembers_the_last_ids_of_each_member(broker) -> None:
    b, _ = broker
    await b.create_room(room(), meta())
    for i in range(101):
        await b.send("r1", "m1", f"id{i}", "t", "hi")
    assert not (await b.send("r1", "m1", "id1", "t", "hi")).fresh  # still known
    assert (await b.send("r1", "m1", "id0", "t", "hi")).fresh  # the oldest was forgotten


async def test_history_replays_in_order_and_admits_loss(broker) -> None:
    b, _ = broker
    await b.create_room(room(), meta())
    for i in range(1, 8):  # history keeps 5
        await b.send("r1", "m1", str(i), "t", f"text {i}")
    kept, complete = await b.replay("r1", 4)
    assert [s.text for s in kept] == ["text 5", "text 6", "text 7"] and complete
    kept, complete = await b.replay("r1", 0)
    assert [s.seq for s in kept] == [3, 4, 5, 6, 7] and not complete
    assert await b.replay("unknown", 0) == ([], True)


async def test_ended_room_is_forgotten_after_its_time(broker) -> None:
    b, _ = broker
    await b.create_room(room(), meta())
    await b.send("r1", "m1", "a", "t", "hi")
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


async def test_redis_reset_keeps_numbering_where_it_was(redis_url: str) -> None:
    """Redis lost its state: the node puts the room back and the next number follows on."""
    from bridgechat.broker.redis import RedisBroker

    b = RedisBroker(redis_url, node="n1", history=5)
    await b.r.flushdb()
    await b.start(lambda m, f: None, lambda members, said: None)
    try:
        await b.subscribe("m1")
        await b.create_room(room(), meta())
        for i in range(3):
            await b.send("r1", "m1", str(i), "t", "hi")
        await b.r.flushdb()
        got = await b.send("r1", "m1", "x", "t", "after the reset")
        assert (got.seq, got.fresh) == (4, True)
        assert (await b.room("r1")).seats["m1"].alias == "Calm Heron"
    finally:
        await b.close()
