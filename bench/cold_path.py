"""What one relayed message costs a node when the CPU was idle before it, against warm.

At a few hundred messages a second a node sleeps between messages, and on a
virtual machine its caches go cold while it sleeps: the same Python then
takes several times longer than in a tight loop. This probe runs the one-node
path of a `send` (decode, number, franking tag, both encodes; a connection
that only counts frames, so no socket) once after each short sleep and once
without, and does the same for the parts that matter. Variants alternate
message by message, so drift on a shared machine hits both alike.

    python bench/cold_path.py [--messages 3000] [--idle-ms 1.5]

Pin it to one CPU (`taskset -c 0`) for steadier figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from server import franking, protocol, web
from server.broker.memory import MemoryBroker
from server.deck import load_deck
from server.hub import Hub
from server.limits import TokenBucket
from server.node import Session
from server.settings import Settings
from server.store import Store, sqlite_url

TEXT = "x" * 100


class CountingConn:
    """A member's connection that counts frames and notes the room it is matched in."""

    def __init__(self) -> None:
        self.frames = 0
        self.room: str | None = None

    def push(self, frame: bytes) -> None:
        self.frames += 1
        if self.room is None and frame.startswith(b'{"type":"matched"'):
            self.room = json.loads(frame)["room"]

    def close_soon(self, code: int, reason: str) -> None:
        pass


async def paired_hub(data_dir: Path) -> tuple[Hub, Session, Session, str]:
    """A one-node hub with two members matched in a room: both members and the room."""
    settings = Settings(data_dir=data_dir, send_rate=1e9, send_burst=1e9, bridge_wait=0.0)
    hub = Hub(settings, Store(sqlite_url(data_dir)), MemoryBroker(), load_deck(settings.deck))
    await hub.start()
    members = [Session(CountingConn(), bucket=TokenBucket(1e9, 1e9)) for _ in range(2)]
    prompt = next(iter(hub.prompts))
    for sess, age in zip(members, ("18-29", "60+"), strict=True):
        await web.on_text(hub, sess, '{"type":"hello","v":1,"token":null}')
        await web.on_text(hub, sess, json.dumps({
            "type": "join", "prompts": [prompt], "languages": ["en"],
            "profile": {"age_band": age}}))
    for _ in range(100):
        await hub.match_tick()
        conn = members[0].conn
        room = conn.room if isinstance(conn, CountingConn) else None
        if room is not None:
            return hub, members[0], members[1], room
        await asyncio.sleep(0.05)
    raise RuntimeError("the two members were not matched")


def timed(cases: dict[str, Callable[[], object]], rounds: int, idle: float
          ) -> dict[str, tuple[float, float]]:
    """Median µs per call of each case, (after idling, warm), cases interleaved."""
    clock = time.perf_counter_ns
    cold: dict[str, list[int]] = {k: [] for k in cases}
    warm: dict[str, list[int]] = {k: [] for k in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            time.sleep(idle)
            t = clock()
            fn()
            cold[name].append(clock() - t)
            t = clock()
            fn()
            warm[name].append(clock() - t)
    return {k: (statistics.median(cold[k]) / 1000, statistics.median(warm[k]) / 1000)
            for k in cases}


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=3000)
    p.add_argument("--idle-ms", type=float, default=1.5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hub, sess, partner, room = await paired_hub(Path(tmp))
        keys = franking.FrankingKeys()
        keys.rotate(bytes(32), 0.0)
        ts = protocol.iso(time.time())
        message = protocol.Message(room=room, seq=1, from_="Ash", text=TEXT, ts=ts, tag="t" * 48)

        def send(n: int) -> str:
            return json.dumps({"type": "send", "room": room, "id": f"c.{n}", "text": TEXT})

        frame = send(0)
        sends = iter([send(i) for i in range(1, 2 * args.messages + 2)])  # made before timing
        cases: dict[str, Callable[[], object]] = {
            "send, whole path": lambda: web.on_text_now(hub, sess, next(sends)),
            "  decode the frame": lambda: protocol.decode(frame),
            "  ts (iso of time.time)": lambda: protocol.iso(time.time()),
            "  franking tag": lambda: keys.tag(room, 1, "Ash", ts, TEXT),
            "  encode the message": lambda: protocol.encode(message),
            "  encode the ack": lambda: protocol.encode(protocol.Ack(id="c.1", seq=1, ts=ts)),
            "nothing (the probe's floor)": lambda: None,
        }
        rounds = max(1, args.messages // len(cases))
        print(f"{rounds} rounds, {args.idle_ms} ms idle before each cold call; median µs")
        print(f"{'':32s} {'cold':>8s} {'warm':>8s}")
        mine, theirs = sess.conn, partner.conn
        assert isinstance(mine, CountingConn) and isinstance(theirs, CountingConn)
        sender_had, partner_had = mine.frames, theirs.frames
        for name, (cold, warm) in timed(cases, rounds, args.idle_ms / 1000).items():
            print(f"{name:32s} {cold:8.2f} {warm:8.2f}")
        print(f"checked: {2 * rounds} sends made {mine.frames - sender_had} acks "
              f"and {theirs.frames - partner_had} messages to the partner")
        await hub.stop()


if __name__ == "__main__":
    asyncio.run(main())
