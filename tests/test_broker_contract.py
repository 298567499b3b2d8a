"""One contract, two brokers: the in-process one and Redis (a real redis-server).

Every test here runs against both. The send rules checked are the list in
the docstring of `Room.send` (core/room.py), which the Redis send script
follows step by step; the numbers in the test names are those of the list.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace

import pytest
from bridgechat.broker import Broker, Said, send
from bridgechat.broker.memory import MemoryBroker
from bridgechat.core.protocol import Code, ProtocolError
from bridgechat.core.room import IDS_REMEMBERED, Room, RoomMeta
from bridgechat.matching import Ticket
from broker_inbox import Inbox


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from cluster_util import RedisServer, redis_binary

    binary = redis_binary()
    if binary is None:
        pytest.skip("redis-server is not installed (CI installs it)")
    srv = RedisServer(binary, tmp_path_factory.mktemp("redis-contract")).start()
    yield srv.url
    srv.stop()


async def redis_broker(url: str, node: str, flush: bool) -> Broker:
    from bridgechat.broker.redis import RedisBroker

    b = RedisBroker(url, node=node, history=5)
    if flush:
        await b.link.client.flushdb()
    return b


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Broker, Inbox]]:
    inbox = Inbox()
    b: Broker
    if request.param == "memory":
        b = MemoryBroker(history=5)
    else:
        b = await redis_broker(request.getfixturevalue("redis_url"), "n1", flush=True)
    await b.start(inbox)
    yield b, inbox
    await b.close()


def ticket(tid: str, member: str) -> Ticket:
    return Ticket(id=tid, member=member, prompts=("home",), languages=("en",), since=1.0,
                  profile=(("age_band", "60+"),))


def room(room_id: str = "r1") -> Room:
    return Room.open(room_id, "home", [("m1", "Calm Heron"), ("m2", "Brave Fox")], 0.0)


def trio() -> Room:
    return Room.open("r3", "home", [("m1", "Calm Heron"), ("m2", "Brave Fox"),
                                    ("m3", "Quiet Owl")], 0.0)


def meta() -> RoomMeta:
    return RoomMeta("home", "Home?", {"m1": ["You both chose it"]}, ("age_band",))


async def eventually(check: Callable[[], bool], seconds: float = 3.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def after_a_marker(b: Broker, inbox: Inbox) -> list[tuple[str, str, object]]:
    """Everything handed over before a marker frame published now arrives (one channel
    reader, in publish order), without the marker: no sleep stands in for "nothing more"."""
    await b.fanout.subscribe("marker")
    await b.fanout.publish(["marker"], b"marker")
    await eventually(lambda: ("deliver", "marker", b"marker") in inbox.got)
    return [g for g in inbox.got if g[1] != "marker"]


async def test_pool_keeps_tickets_whole_and_removes_once(broker) -> None:
    b, _ = broker
    await b.pool.add_ticket(ticket("t1", "m1"))
    await b.pool.add_ticket(ticket("t2", "m2"))
    assert sorted(t.id for t in await b.pool.tickets()) == ["t1", "t2"]
    assert await b.pool.remove_ticket("t1") == ticket("t1", "m1")
    assert await b.pool.remove_ticket("t1") is None
    assert [t.id for t in await b.pool.tickets()] == ["t2"]


async def test_pool_holds_one_ticket_per_member(broker) -> None:
    """Joining twice (from two nodes at once) leaves one ticket: the broker refuses the
    second, and frees the member once their ticket is withdrawn or matched."""
    b, _ = broker
    assert await b.pool.add_ticket(ticket("t1", "m1"))
    assert not await b.pool.add_ticket(ticket("t2", "m1"))
    assert [t.id for t in await b.pool.tickets()] == ["t1"]
    assert await b.pool.remove_ticket("t1") is not None
    assert await b.pool.add_ticket(ticket("t2", "m1"))
    assert await b.pool.add_ticket(ticket("t3", "m3"))
    assert await b.pool.take_tickets(["t2", "t3"]) is not None
    assert await b.pool.add_ticket(ticket("t4", "m1"))
    assert await b.pool.add_ticket(ticket("t5", "m3"))
    assert sorted(t.id for t in await b.pool.tickets()) == ["t4", "t5"]
    # An event's sign-up is held once too, whichever member opens it.
    assert await b.pool.add_ticket(replace(ticket("t6", "m6"), holder="signup:s1"))
    assert not await b.pool.add_ticket(replace(ticket("t7", "m7"), holder="signup:s1"))
    assert await b.pool.take_tickets(["t6"]) is not None
    assert await b.pool.add_ticket(replace(ticket("t7", "m7"), holder="signup:s1"))


async def test_pool_takes_a_group_whole_or_not_at_all(broker) -> None:
    b, _ = broker
    for tid, member in (("t1", "m1"), ("t2", "m2"), ("t3", "m3")):
        await b.pool.add_ticket(ticket(tid, member))
    # One of them is gone: nothing is taken, the others stay waiting.
    assert await b.pool.take_tickets(["t1", "gone", "t2"]) is None
    assert sorted(t.id for t in await b.pool.tickets()) == ["t1", "t2", "t3"]
    assert await b.pool.take_tickets(["t2", "t1"]) == [ticket("t2", "m2"), ticket("t1", "m1")]
    assert [t.id for t in await b.pool.tickets()] == ["t3"]
    # Taken once: a second taker (the matcher on another node) gets nothing.
    assert await b.pool.take_tickets(["t1", "t3"]) is None
    assert [t.id for t in await b.pool.tickets()] == ["t3"]


async def test_publish_reaches_deliver_for_subscribed_members_only(broker) -> None:
    b, inbox = broker
    await b.fanout.subscribe("m1")
    await b.fanout.subscribe("m2")
    await b.fanout.unsubscribe("m2")
    await b.fanout.publish(["m1", "m2", "nobody"], b'{"type":"thanks"}')
    assert await after_a_marker(b, inbox) == [("deliver", "m1", b'{"type":"thanks"}')]


async def test_frames_are_handed_over_as_they_are_whatever_they_start_with(broker) -> None:
    """A frame's bytes never say what it is: the old "!cut " prefix, a JSON array
    (as a message looks) or a kind byte of the envelope all stay frames."""
    b, inbox = broker
    await b.fanout.subscribe("m1")
    odd = [b"!cut {}", b'["r1",1,"Calm Heron","t","hi"]', b"c", b"s[]", b"f", b""]
    for frame in odd:
        await b.fanout.publish(["m1"], frame)
    assert await after_a_marker(b, inbox) == [("deliver", "m1", f) for f in odd]


async def test_cut_reaches_inbox_cut_and_not_deliver(broker) -> None:
    b, inbox = broker
    await b.fanout.subscribe("m1")
    await b.fanout.cut("m1", b'{"type":"error","code":"suspended"}')
    await b.fanout.cut("elsewhere", b"{}")  # nobody holds them here
    assert await after_a_marker(b, inbox) == [
        ("cut", "m1", b'{"type":"error","code":"suspended"}')]


async def test_room_changes_apply_the_room_rules(broker) -> None:
    b, _ = broker
    await b.rooms.create_room(room(), meta())
    assert await b.rooms.member_rooms("m1") == {"r1"}
    away = await b.rooms.change_room("r1", lambda r: r.drop("m2", 1.0, 60.0))
    assert away and (await b.rooms.room("r1")).seats["m2"].state.value == "away"
    with pytest.raises(ProtocolError) as e:
        await b.rooms.change_room("r1", lambda r: r.leave("stranger", "left", 1.0))
    assert e.value.code is Code.NOT_IN_ROOM
    with pytest.raises(ProtocolError) as e:
        await b.rooms.change_room("nope", lambda r: r.seq)
    assert e.value.code is Code.UNKNOWN_ROOM
    assert (await b.rooms.meta("r1")) == meta()
    await b.rooms.unseat("r1", ["m1"])
    assert await b.rooms.member_rooms("m1") == set()


async def test_send_numbers_and_hears_said_on_the_others_only(broker) -> None:
    """Rules 6 and 8: numbered 1, 2, ...; `hear` gets the Said for every other
    seated member here, never the sender."""
    b, inbox = broker
    for m in ("m1", "m2", "m3"):
        await b.fanout.subscribe(m)
    await b.rooms.create_room(trio(), meta())
    first = await send(b.rooms, "r3", "m1", "a", "t1", "hello there")
    second = await send(b.rooms, "r3", "m2", "b", "t2", "hi")
    assert (first.seq, first.ts, first.fresh) == (1, "t1", True)
    assert (second.seq, second.ts, second.fresh) == (2, "t2", True)
    one = Said("r3", 1, "Calm Heron", "t1", "hello there")
    two = Said("r3", 2, "Brave Fox", "t2", "hi")
    got = sorted(await after_a_marker(b, inbox), key=lambda g: (g[2].seq, g[1]))
    assert got == [("hear", "m2", one), ("hear", "m3", one),
                   ("hear", "m1", two), ("hear", "m3", two)]
    assert (await b.rooms.room("r3")).seq == 2


async def test_a_resend_gets_its_first_number_and_goes_nowhere(broker) -> None:
    """Rule 4: the same client id, even with another ts and over the rate limit."""
    b, inbox = broker
    await b.fanout.subscribe("m2")
    await b.rooms.create_room(room(), meta())
    first = await send(b.rooms, "r1", "m1", "a", "t1", "hello")
    again = await send(b.rooms, "r1", "m1", "a", "t2", "hello")
    limited = await send(b.rooms, "r1", "m1", "a", "t3", "hello", allowed=False)
    assert (first.seq, first.fresh) == (1, True)
    assert [(a.seq, a.ts, a.fresh) for a in (again, limited)] == [(1, "t1", False)] * 2
    said = Said("r1", 1, "Calm Heron", "t1", "hello")
    assert await after_a_marker(b, inbox) == [("hear", "m2", said)]
    assert (await b.rooms.room("r1")).seq == 1
    assert await b.rooms.replay("r1", 0, 1000) == ([said], True)
    # The other member's id "a" is their own.
    assert (await send(b.rooms, "r1", "m2", "a", "t4", "mine")).seq == 2


async def test_refusals_come_with_their_codes_in_the_order_of_the_rules(broker) -> None:
    """Rules 1, 2, 3, 5, each where the ones before it do not apply."""
    b, inbox = broker
    await b.fanout.subscribe("m2")
    await b.rooms.create_room(room(), meta())
    await send(b.rooms, "r1", "m1", "a", "t1", "one")

    async def refused(*args: str, allowed: bool = True) -> tuple[Code, str | None]:
        with pytest.raises(ProtocolError) as e:
            await send(b.rooms, *args, "t", "text", allowed=allowed)  # type: ignore[arg-type]
        return e.value.code, e.value.ref

    assert await refused("nope", "stranger", "x", allowed=False) == (Code.UNKNOWN_ROOM, None)
    assert await refused("r1", "stranger", "x", allowed=False) == (Code.NOT_IN_ROOM, None)
    assert await refused("r1", "m1", "b", allowed=False) == (Code.RATE_LIMITED, "b")
    await b.rooms.change_room("r1", lambda r: r.leave("m2", "left", 2.0))  # closes it
    assert await refused("r1", "m2", "a", allowed=False) == (Code.NOT_IN_ROOM, None)
    assert await refused("r1", "m1", "c", allowed=False) == (Code.ROOM_CLOSED, None)
    assert await refused("r1", "m1", "a") == (Code.ROOM_CLOSED, None)  # a resend too
    assert (await b.rooms.room("r1")).seq == 1
    assert [s.seq for s in (await b.rooms.replay("r1", 0, 1000))[0]] == [1]
    assert [g[0] for g in await after_a_marker(b, inbox)] == ["hear"]


async def test_refusals_without_a_wait_raise_at_once_or_in_the_future(broker) -> None:
    b, _ = broker
    await b.rooms.create_room(room(), meta())
    await send(b.rooms, "r1", "m1", "first", "t0", "first")
    for args, code in ((("nope", "m1", "x", "t", "lost"), Code.UNKNOWN_ROOM),
                       (("r1", "m9", "x", "t", "who"), Code.NOT_IN_ROOM)):
        with pytest.raises(ProtocolError) as e:
            got = b.rooms.send_soon(*args)
            if not hasattr(got, "seq"):
                await got  # type: ignore[misc]
        assert e.value.code is code


async def test_sends_begun_in_turn_are_numbered_in_turn(broker) -> None:
    """Rule 6 on `send_soon`, the path every chat message takes: begun at once, in order,
    with a resend among them before its first has been answered."""
    b, inbox = broker
    await b.fanout.subscribe("m2")
    await b.rooms.create_room(room(), meta())
    await send(b.rooms, "r1", "m1", "first", "t0", "first")  # Redis: the lean link is up
    begun = [b.rooms.send_soon("r1", "m1", f"s{i}", "t", f"text {i}") for i in range(10)]
    begun.append(b.rooms.send_soon("r1", "m1", "s3", "t", "text 3"))
    done = [x if hasattr(x, "seq") else await x for x in begun]
    assert [a.seq for a in done] == [*range(2, 12), 5]
    assert [a.fresh for a in done] == [True] * 10 + [False]
    got = await after_a_marker(b, inbox)
    assert [(m, s.seq, s.text) for _, m, s in got] == [
        ("m2", 1, "first"), *(("m2", i + 2, f"text {i}") for i in range(10))]


async def test_concurrent_sends_get_distinct_gapless_seqs(broker) -> None:
    b, _ = broker
    await b.rooms.create_room(room(), meta())
    got = await asyncio.gather(*[
        send(b.rooms, "r1", "m1" if i % 2 else "m2", str(i), "t", "hi") for i in range(20)])
    assert sorted(a.seq for a in got) == list(range(1, 21))


async def test_a_room_remembers_the_last_ids_of_each_member(broker) -> None:
    """Rule 7."""
    b, _ = broker
    await b.rooms.create_room(room(), meta())
    for i in range(IDS_REMEMBERED + 1):
        await send(b.rooms, "r1", "m1", f"id{i}", "t", "hi")
    assert not (await send(b.rooms, "r1", "m1", "id1", "t", "hi")).fresh  # still known
    again = await send(b.rooms, "r1", "m1", "id0", "t", "hi")  # the oldest was forgotten
    assert (again.seq, again.fresh) == (IDS_REMEMBERED + 2, True)


async def test_history_replays_in_order_and_admits_loss(broker) -> None:
    """Rule 8: the last `history` (5 here) messages are kept."""
    b, _ = broker
    await b.rooms.create_room(room(), meta())
    for i in range(1, 8):
        await send(b.rooms, "r1", "m1", str(i), f"t{i}", f"text {i}")
    kept, complete = await b.rooms.replay("r1", 4, 1000)
    assert kept == [Said("r1", i, "Calm Heron", f"t{i}", f"text {i}") for i in (5, 6, 7)]
    assert complete
    kept, complete = await b.rooms.replay("r1", 0, 1000)
    assert [s.seq for s in kept] == [3, 4, 5, 6, 7] and not complete
    assert await b.rooms.replay("r1", 7, 1000) == ([], True)
    assert await b.rooms.replay("unknown", 0, 1000) == ([], True)


async def test_history_replays_a_page_at_a_time(broker) -> None:
    """A page is at most `limit` messages from seq after+1: never the whole history."""
    b, _ = broker
    await b.rooms.create_room(room(), meta())
    for i in range(1, 8):
        await send(b.rooms, "r1", "m1", str(i), f"t{i}", f"text {i}")
    # History keeps 3..7 (5 here); pages of two from each starting point.
    for after, seqs, complete in ((0, [3, 4], False), (2, [3, 4], True), (3, [4, 5], True),
                                  (5, [6, 7], True), (6, [7], True)):
        kept, whole = await b.rooms.replay("r1", after, 2)
        assert ([s.seq for s in kept], whole) == (seqs, complete), after


async def test_ended_room_is_forgotten_after_its_time(broker) -> None:
    b, _ = broker
    await b.rooms.create_room(room(), meta())
    await send(b.rooms, "r1", "m1", "a", "t", "hi")
    assert await b.rooms.open_rooms() == ["r1"]
    await b.rooms.change_room("r1", lambda r: r.close("moderator", 1.0))
    await b.rooms.end_room("r1", keep_history=1, keep_room=1)
    assert await b.rooms.open_rooms() == []
    deadline = time.monotonic() + 3
    while await b.rooms.room("r1") is not None:
        assert time.monotonic() < deadline, "the ended room was kept past its time"
        await asyncio.sleep(0.1)
    assert await b.rooms.replay("r1", 0, 1000) == ([], True)


async def test_pairs_again_and_forgetting(broker) -> None:
    b, _ = broker
    await b.pairs.note_pairs([frozenset(("a", "b"))], ttl=60)
    await b.pairs.note_pairs([frozenset(("a", "c"))], ttl=-1)
    assert await b.pairs.recent_pairs() == {frozenset(("a", "b"))}
    await b.pairs.note_again(frozenset(("a", "b")))
    await b.pairs.note_again(frozenset(("c", "d")))
    assert await b.pairs.again_pairs() == {frozenset(("a", "b")), frozenset(("c", "d"))}
    await b.pairs.drop_again(frozenset(("c", "d")))
    await b.pairs.forget_member("a")
    assert await b.pairs.recent_pairs() == set() and await b.pairs.again_pairs() == set()


async def test_franking_keys_are_shared_and_retired(broker) -> None:
    b, _ = broker
    await b.keys.add_franking_key(b"k" * 32, 10.0)
    await b.keys.add_franking_key(b"j" * 32, 20.0)
    keys = await b.keys.franking_keys()
    assert sorted(keys) == [1, 2] and keys[1] == (b"k" * 32, 10.0)
    await b.keys.retire_franking_keys(before=15.0)
    assert list(await b.keys.franking_keys()) == [2]
    await b.keys.add_franking_key(b"k" * 32, 10.0, kid=1)  # put back a known key
    await b.keys.add_franking_key(b"i" * 32, 30.0)
    assert sorted(await b.keys.franking_keys()) == [1, 2, 3]


async def test_a_token_is_spent_once_until_its_time_then_forgotten(broker) -> None:
    """The bot barrier's proofs: the first spend wins; a spend remembered until a time
    already past (by the broker's clock) does not hold the token back."""
    b, _ = broker
    until = time.time() + 60
    assert await b.keys.spend("tok-a", until)
    assert not await b.keys.spend("tok-a", until)
    assert not await b.keys.spend("tok-a", until + 600)
    assert await b.keys.spend("tok-b", until)
    gone = time.time() + 0.3
    assert await b.keys.spend("tok-c", gone)
    assert not await b.keys.spend("tok-c", gone)
    await asyncio.sleep(max(0.0, gone - time.time()) + 0.1)
    assert await b.keys.spend("tok-c", time.time() + 60)
    # Many at once: one wins.
    won = await asyncio.gather(*(b.keys.spend("tok-d", until) for _ in range(20)))
    assert won.count(True) == 1


async def test_the_memory_broker_forgets_tokens_past_their_time() -> None:
    """Spent tokens cannot fill the process: those whose time passed are dropped."""
    from bridgechat.broker.memory import SPENT_SWEEP, MemoryKeyRing

    ring = MemoryKeyRing()
    past = time.time() - 1
    for i in range(10 * SPENT_SWEEP):
        assert await ring.spend(f"t{i}", past)
    assert len(ring._spent) <= SPENT_SWEEP
    assert await ring.spend("t1", time.time() + 60)  # its time had passed: spent afresh


async def test_a_token_spent_on_one_node_is_spent_on_the_other(redis_url: str) -> None:
    a = await redis_broker(redis_url, "n1", flush=True)
    b = await redis_broker(redis_url, "n2", flush=False)
    try:
        until = time.time() + 60
        assert await a.keys.spend("across", until)
        assert not await b.keys.spend("across", until)
        assert await b.keys.spend("other", until) and not await a.keys.spend("other", until)
    finally:
        await a.close()
        await b.close()


async def test_counters_sum_per_minute_and_per_day_and_forget_the_old(broker) -> None:
    """The moderators' charts: counts per minute for the last hour, per day for today."""
    b, _ = broker
    now = time.time()
    minute = int(now // 60)
    await b.counters.add({"rooms": 1, "crossing2": 1}, now)
    await b.counters.add({"rooms": 2, "crossing2": 0}, now)
    await b.counters.add({"rooms": 1}, (minute - 2) * 60 + 5)
    assert await b.counters.minutes("rooms", minute - 3, 4) == [0, 1, 0, 3]
    assert await b.counters.minutes("crossing2", minute, 1) == [1]
    assert await b.counters.minutes("nothing", minute, 2) == [0, 0]
    assert await b.counters.minutes("rooms", minute, 0) == []
    day = await b.counters.day(["rooms", "crossing2", "nothing"], now)
    if int((now - 120) // 86400) == int(now // 86400):  # not just after midnight (UTC)
        assert day == [4, 1, 0]
    # A count for a minute long gone is not kept, and yesterday's is not today's.
    old = now - 3 * 3600
    await b.counters.add({"stale": 5}, old)
    assert await b.counters.minutes("stale", int(old // 60), 1) == [0]
    await b.counters.add({"yesterday": 1}, now - 86400)
    assert await b.counters.day(["yesterday"], now) == [0]
    assert await b.counters.day(["yesterday"], now - 86400) == [1]


async def test_counts_made_on_two_nodes_add_up(redis_url: str) -> None:
    a = await redis_broker(redis_url, "n1", flush=True)
    b = await redis_broker(redis_url, "n2", flush=False)
    try:
        now = time.time()
        await a.counters.add({"rooms": 2}, now)
        await b.counters.add({"rooms": 3}, now)
        for node in (a, b):
            assert await node.counters.minutes("rooms", int(now // 60), 1) == [5]
            assert await node.counters.day(["rooms"], now) == [5]
        ttl = await a.link.client.ttl(f"bc:count:rooms:m:{int(now // 60)}")
        assert 3600 < ttl <= 3660  # an hour past its minute: the charts' hour, then gone
    finally:
        await a.close()
        await b.close()


async def test_the_memory_broker_keeps_counts_across_a_restart() -> None:
    """A single node's clean restart keeps today's figures (sealed with the rooms)."""
    a = MemoryBroker()
    now = time.time()
    await a.counters.add({"rooms": 3}, now)
    b = MemoryBroker()
    b.restore(a.snapshot())
    assert await b.counters.day(["rooms"], now) == [3]
    assert await b.counters.minutes("rooms", int(now // 60), 1) == [3]


async def test_leader_lock_is_held_by_one(broker) -> None:
    b, _ = broker
    assert await b.pool.lead("n1", 5.0)
    assert await b.pool.lead("n1", 5.0)  # renewing
    if isinstance(b, MemoryBroker):
        return  # one node: always the leader
    assert not await b.pool.lead("n2", 5.0)


async def test_wake_times_come_due_once_and_earliest_wins(broker) -> None:
    b, _ = broker
    await b.rooms.wake_at("r1", 100.0)
    await b.rooms.wake_at("r2", 200.0)
    await b.rooms.wake_at("r2", 300.0)  # a later time does not postpone an earlier one
    assert await b.rooms.due_rooms(150.0) == ["r1"]
    assert await b.rooms.due_rooms(150.0) == []
    assert await b.rooms.due_rooms(250.0) == ["r2"]


async def test_ready_once_started(broker) -> None:
    b, _ = broker
    assert await b.ready()


# -- Redis only: what crosses from one node to another -------------------------------


async def test_cut_frames_and_messages_cross_nodes_each_as_its_kind(redis_url: str) -> None:
    one, two = Inbox(), Inbox()
    a = await redis_broker(redis_url, "n1", flush=True)
    b = await redis_broker(redis_url, "n2", flush=False)
    await a.start(one)
    await b.start(two)
    try:
        await b.fanout.subscribe("m2")  # m2 is connected to node two
        await a.fanout.subscribe("m1")
        await a.rooms.create_room(room(), meta())
        await send(a.rooms, "r1", "m1", "x", "t", "across")
        await a.fanout.publish(["m2"], b'{"type":"thanks"}')
        await a.fanout.cut("m2", b'{"type":"error"}')
        assert await after_a_marker(b, two) == [
            ("hear", "m2", Said("r1", 1, "Calm Heron", "t", "across")),
            ("deliver", "m2", b'{"type":"thanks"}'),
            ("cut", "m2", b'{"type":"error"}')]
        assert await after_a_marker(a, one) == []
    finally:
        await a.close()
        await b.close()


async def test_redis_reset_keeps_numbering_where_it_was(redis_url: str) -> None:
    """Redis lost its state: the node puts the room back and the next number follows on."""
    b = await redis_broker(redis_url, "n1", flush=True)
    await b.start(Inbox())
    try:
        await b.fanout.subscribe("m1")
        await b.rooms.create_room(room(), meta())
        for i in range(3):
            await send(b.rooms, "r1", "m1", str(i), "t", "hi")
        await b.link.client.flushdb()
        got = await send(b.rooms, "r1", "m1", "x", "t", "after the reset")
        assert (got.seq, got.fresh) == (4, True)
        assert (await b.rooms.room("r1")).seats["m1"].alias == "Calm Heron"
    finally:
        await b.close()
