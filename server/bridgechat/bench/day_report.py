"""`bench day`'s figures: the members' tallies, rooms rebuilt, crossing and losses counted.

Rooms are rebuilt from what each member was told (`matched`: the room and
the aliases), so a room whose members sat on different workers or nodes is
counted once. A message is lost when its sender had it acknowledged and a
member of the room did not receive it. Crossing is scored with the matcher's
own rules on the answers each member signed up with.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bridgechat.bench.matching_pool import crosses
from bridgechat.bench.process_stats import ProcSample
from bridgechat.bench.relay_report import percentile
from bridgechat.core.deck import Dimension
from bridgechat.matching import Ticket, score_group

FAR = 1e9  # "long after": every bar is down when a room is scored for the report


def crossing_share(rooms: dict[str, list[int]], tickets: Sequence[Ticket],
                   dims: Sequence[Dimension]) -> float:
    crossing = scored = 0
    for members in rooms.values():
        # Mode and size are the event's, and the language the one all speak.
        seated = [replace(tickets[n], mode="bridge", group=len(members), languages=("en",),
                          learning=()) for n in members]
        group = score_group(seated, FAR, dims)
        if group is not None:
            scored += 1
            crossing += crosses(group)
    return crossing / scored if scored else 0.0


def summarise(args: argparse.Namespace, starts: float, results: dict[int, dict[str, Any]],
              tickets: Sequence[Ticket], dims: Sequence[Dimension],
              nodes: dict[str, list[int]], before: dict[int, ProcSample | None],
              after: dict[int, ProcSample | None]) -> dict[str, Any]:
    """Merge the workers' tallies; print the figures (and write --json)."""
    errors: Counter[str] = Counter()
    lat: list[float] = []
    rooms: dict[str, list[int]] = {}
    acked: dict[tuple[str, str], int] = {}  # (room, alias) -> messages acknowledged
    got: dict[str, list[tuple[str, dict[str, int]]]] = {}  # room -> (receiver, from -> count)
    present = told = 0
    hints: Counter[str] = Counter()  # why the unmatched were told they wait
    waits: list[float] = []
    for r in results.values():
        errors.update(r["errors"])
        lat.extend(r["lat"])
        for n, entered, at, room, you, _others, hint, was_told, n_acked, received in r["seats"]:
            present += entered
            if room is None:
                told += bool(entered and was_told)
                if entered:
                    hints[hint or ("queued" if was_told else "nothing")] += 1
                continue
            rooms.setdefault(room, []).append(n)
            waits.append(at - starts)
            acked[(room, you)] = n_acked
            got.setdefault(room, []).append((you, received))
    lost = 0
    for (room, sender), n in acked.items():
        for receiver, received in got.get(room, []):
            if receiver != sender:
                lost += max(0, n - received.get(sender, 0))
    matched = len(waits)
    lat.sort()
    waits.sort()
    server: dict[str, dict[str, float]] = {}
    for name, pids in [*nodes.items(), *((f"pid {p}", [p]) for p in args.server_pid)]:
        pairs = [(before.get(p), after.get(p)) for p in pids]
        seen = [(a, b) for a, b in pairs if a is not None and b is not None]
        if seen:
            server[name] = {"cpu_s": sum(b.cpu - a.cpu for a, b in seen),
                            "rss_mib": sum(b.rss for _, b in seen) / 2**20,
                            "hwm_mib": sum(b.hwm for _, b in seen) / 2**20}
    ms = 1000.0
    fig: dict[str, Any] = {
        "members": args.members, "nodes": len(args.url), "present": present,
        "matched": matched, "matched_share": matched / present if present else 0.0,
        "told_why": told, "unmatched": dict(hints), "rooms": len(rooms),
        "last_room_s": waits[-1] if waits else float("nan"),
        "in_time": sum(1 for w in waits if w <= args.match_wait),
        "crossing2_share": crossing_share(rooms, tickets, dims),
        "messages": sum(acked.values()), "lost": lost,
        "p50_ms": percentile(lat, 0.50) * ms, "p99_ms": percentile(lat, 0.99) * ms,
        "errors": sum(errors.values()), "error_kinds": dict(errors), "server": server,
    }
    print(f"members {args.members} on {len(args.url)} node(s): {present} in the lobby, "
          f"{matched} matched ({100 * fig['matched_share']:.1f} %) in {len(rooms)} rooms; "
          f"{told} more told why" + (f" {dict(hints)}" if hints else ""))
    print(f"from the start: first room {waits[0] if waits else float('nan'):.2f} s, last room "
          f"{fig['last_room_s']:.2f} s; within {args.match_wait:.0f} s: {fig['in_time']}")
    print(f"rooms crossing two divides or more: {100 * fig['crossing2_share']:.1f} %")
    print(f"messages {fig['messages']}, lost {lost}; latency p50 {fig['p50_ms']:.1f} ms, "
          f"p99 {fig['p99_ms']:.1f} ms")
    print(f"errors {fig['errors']}" + (f": {dict(errors)}" if errors else ""))
    for name, s in server.items():
        print(f"  {name}: CPU {s['cpu_s']:.1f} s over the day, RSS {s['rss_mib']:.0f} MiB "
              f"(peak {s['hwm_mib']:.0f} MiB)")
    if args.json:
        Path(args.json).write_text(json.dumps(fig, indent=2))
    return fig
