"""The wire, one small adapter per protocol: Bridgechat, the bare relay, socket.io.

Each benchmark client says hello, asks to be matched and waits for its room
through these, so the same client drives Bridgechat and the baselines in
bench/ and only the server differs.
"""

from __future__ import annotations

import asyncio
import base64
import json
import string
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import msgspec
from altcha.v1 import solve_challenge
from websockets.asyncio.client import ClientConnection

from bridgechat.bench.loopback import loopback_host

PROTOCOLS = ("bridgechat", "bare", "socketio")
PROFILE_A = {"age_band": "18-29", "area": "urban", "origin": "newcomer"}
PROFILE_B = {"age_band": "60+", "area": "rural", "origin": "born_here"}
LANGS = tuple(a + b for a in string.ascii_lowercase for b in string.ascii_lowercase)
SKIP_FRAMES = 1000  # frames that recv_json lets pass before it gives up
JOIN_WAIT = 60.0  # seconds a join may take to be queued, challenges solved included
MAX_PROOFS = 3  # bot-barrier challenges solved for one join before it counts as refused
BARRIER = ("proof_required", "proof_invalid")  # each is followed by a `challenge`
decode_json = msgspec.json.Decoder().decode


def ws_url(url: str, protocol: str) -> str:
    """A ws:// URL for the protocol's endpoint; http(s) and bare host:port are accepted.

    Its host must be loopback (bridgechat.bench.loopback.NotLoopback otherwise);
    `localhost` becomes 127.0.0.1."""
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    host = loopback_host(parts.hostname or "")
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    path = parts.path if parts.path not in ("", "/") else (
        "/socket.io/" if protocol == "socketio" else "/ws")
    query = parts.query
    if protocol == "socketio" and "EIO=" not in query:
        query = "EIO=4&transport=websocket"
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")


async def recv_json(ws: ClientConnection, want: Callable[[str], bool], deadline: float) -> str:
    """The next text frame for which `want` is true; others pass; bounded by `deadline`
    and by SKIP_FRAMES."""
    for _ in range(SKIP_FRAMES):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no expected frame in time")
        raw = await asyncio.wait_for(ws.recv(), left)
        if isinstance(raw, str):
            if raw == "2":  # engine.io ping
                await ws.send("3")
            elif want(raw):
                return raw
    raise RuntimeError(f"no expected frame in {SKIP_FRAMES}")


async def say_hello(ws: ClientConnection, protocol: str, deadline: float,
                    idle_key: str | None = None) -> list[str]:
    """Open the session: hello (Bridgechat), engine.io open + connect (socket.io); for an
    idle bare connection, a join under `idle_key`. Returns Bridgechat's prompt ids."""
    if protocol == "bridgechat":
        await ws.send('{"type":"hello","v":1,"token":null}')
        raw = await recv_json(ws, lambda r: r.startswith('{"type":"welcome"')
                              or r.startswith('{"type":"error"'), deadline)
        frame = decode_json(raw)
        if frame["type"] != "welcome":
            raise RuntimeError(f"hello refused: {frame.get('code')}")
        return [p["id"] for p in frame["prompts"]]
    if protocol == "socketio":
        await recv_json(ws, lambda r: r.startswith("0{"), deadline)
        await ws.send("40")
        await recv_json(ws, lambda r: r.startswith("40"), deadline)
        return []
    if idle_key is not None:
        await ws.send(json.dumps({"type": "join", "pair": idle_key}))
        await recv_json(ws, lambda r: r.startswith('{"type":"queued"'), deadline)
    return []


def proof_of(challenge: dict[str, Any]) -> str:
    """The `proof` for a `challenge` frame (docs/protocol.md, "Bot barrier"), found with
    altcha's solver: base64 of the JSON of the challenge's fields and the number."""
    found = solve_challenge(challenge["challenge"], challenge["salt"],
                            challenge["algorithm"], challenge["maxnumber"])
    if found is None:
        raise RuntimeError("a challenge that no number solves")
    fields = {k: challenge[k] for k in ("algorithm", "challenge", "salt", "signature")}
    return base64.b64encode(json.dumps({**fields, "number": found.number}).encode()).decode()


async def join(ws: ClientConnection, frame: dict[str, Any], deadline: float) -> None:
    """Send a Bridgechat `join` and wait for `queued`. While the node's bot barrier is
    on, each `challenge` is solved and the join sent again with its proof."""
    await ws.send(json.dumps(frame))
    solved = 0
    while True:
        raw = await recv_json(ws, lambda r: r.startswith(('{"type":"queued"', '{"type":"error"',
                                                          '{"type":"challenge"')), deadline)
        answer = decode_json(raw)
        if answer["type"] == "queued":
            return
        if answer["type"] == "error":
            if answer.get("code") in BARRIER:
                continue
            raise RuntimeError(f"join refused: {answer.get('code')}")
        solved += 1
        if solved > MAX_PROOFS:
            raise RuntimeError("join refused: proof_invalid")
        await ws.send(json.dumps({**frame, "proof": proof_of(answer)}))


async def pair_up(ws: ClientConnection, protocol: str, pair: int, role: int,
                  prompts: Sequence[str], deadline: float | None = None) -> None:
    """Ask to be matched: Bridgechat's join (until `queued`, solving the bot barrier's
    challenges), socket.io's join event, bare's join."""
    if protocol == "bridgechat":
        if not prompts:
            raise RuntimeError("welcome listed no prompts")
        prompt = prompts[pair % len(prompts)]
        lang = LANGS[(pair // len(prompts)) % len(LANGS)]
        await join(ws, {"type": "join", "prompts": [prompt], "languages": [lang],
                        "profile": PROFILE_A if role == 0 else PROFILE_B},
                   deadline if deadline is not None else time.monotonic() + JOIN_WAIT)
    elif protocol == "socketio":
        await ws.send(f'420["join",{{"pair":"p{pair}"}}]')
    else:
        await ws.send(json.dumps({"type": "join", "pair": f"p{pair}"}))


async def wait_matched(ws: ClientConnection, protocol: str, pair: int, deadline: float) -> str:
    """The room to send into: Bridgechat's `matched`, bare's `matched`, socket.io's join ack."""
    if protocol == "socketio":
        await recv_json(ws, lambda r: r.startswith("430"), deadline)
        return f"p{pair}"
    raw = await recv_json(ws, lambda r: r.startswith('{"type":"matched"')
                          or r.startswith('{"type":"error"'), deadline)
    frame = decode_json(raw)
    if frame["type"] != "matched":
        raise RuntimeError(f"join refused: {frame.get('code')}")
    return str(frame["room"])
