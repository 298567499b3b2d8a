"""A burst of frames written back to back is answered in order, limited and numbered once.

Sends are begun as soon as their frame is read (Node.receive) while other
frames wait for the socket's task; this checks, over a real socket and with
the default limit (5 a second after a burst of 20 on a member's first day, as
here; 30 later), that the member still
sees every answer in the order of their frames and the partner every
accepted message once, in order. The wire suite runs once on the in-process
broker and once on Redis, so both ways of numbering a message are covered.
"""

from __future__ import annotations

import time

BURST = 20  # the server's default --first-day-burst (these members joined today)
RATE = 5.0  # and --send-rate, tokens a second


async def test_back_to_back_frames_keep_their_order_and_the_limit(clients) -> None:
    pair = await clients.pair()
    a, b, room = pair.a, pair.b, pair.room
    ids = [f"burst-{i}" for i in range(BURST + 10)]
    started = time.monotonic()
    for i, id_ in enumerate(ids):
        await a.send({"type": "send", "room": room, "id": id_, "text": f"message {i}"})
        if i == 5:  # a frame that is not a send, in the middle of the burst
            await a.send({"type": "typing", "room": room})
    # Past the limit: resending an accepted message is answered with its first
    # number, costs nothing, and is not delivered again.
    await a.send({"type": "send", "room": room, "id": ids[2], "text": "message 2"})
    await a.send({"type": "leave", "room": room})

    answers = []
    while True:
        frame = await a.recv()
        if frame["type"] == "closed":
            break
        answers.append(frame)
    took = time.monotonic() - started

    # One answer per send, in the order the sends were written, before `closed`.
    assert [f.get("id") or f.get("ref") for f in answers] == [*ids, ids[2]], answers
    acks = [f for f in answers if f["type"] == "ack"]
    limited = [f for f in answers if f["type"] == "error"]
    assert all(f["code"] == "rate_limited" for f in limited), limited
    # Never fewer than the burst; more only by what the rate refilled meanwhile (the
    # exact rule, on a hand-made clock, is in tests/test_session.py).
    assert BURST <= len(acks) - 1 <= BURST + int(RATE * took) + 1, (len(acks), took)
    first = acks[:-1]
    assert [f["seq"] for f in first] == list(range(first[0]["seq"], first[0]["seq"] + len(first)))
    assert acks[-1]["id"] == ids[2] and acks[-1]["seq"] == first[2]["seq"], acks[-1]
    assert [f["id"] for f in first] == ids[: len(first)]  # the limit refuses the tail only

    got = []
    while True:
        # The partner also hears the `typing` sent in the middle, wherever it lands.
        frame = await b.recv(ignore=frozenset({"typing"}))
        if frame["type"] != "message":
            assert frame["type"] == "left", frame
            break
        got.append(frame)
    assert [m["seq"] for m in got] == [f["seq"] for f in first]
    assert [m["text"] for m in got] == [f"message {i}" for i in range(len(first))]
