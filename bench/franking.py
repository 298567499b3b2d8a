"""The franking tag's cost, today's code against an earlier one, side by side in one run.

    git show a21da95:server/franking.py > /tmp/franking_before.py
    python bench/franking.py --before /tmp/franking_before.py [--messages 20000] [--rounds 7]

Each round times `tag` over the same messages for each implementation, in
alternating order; the figures are the median microseconds per tag and the
ratio new/before. Both must produce the same tags (checked first).
"""

from __future__ import annotations

import argparse
import importlib.util
import secrets
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

from bridgechat.core import franking


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("franking_before", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def per_tag_us(keys: object, msgs: list[tuple[str, int, str, str, str]]) -> float:
    tag = keys.tag  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    for m in msgs:
        tag(*m)
    return (time.perf_counter() - t0) / len(msgs) * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, required=True, help="an earlier franking.py")
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    key = secrets.token_bytes(franking.KEY_BYTES)
    new, old = franking.FrankingKeys(), load(args.before).FrankingKeys()
    for k in (new, old):
        k.load({1: (key, 0.0)})
    msgs = [("room-abcdefgh", i, "Juniper", "2026-12-02T18:00:00.123Z", "hello there " * 8)
            for i in range(max(1, min(args.messages, 1_000_000)))]
    if [new.tag(*m) for m in msgs[:50]] != [old.tag(*m) for m in msgs[:50]]:
        print("the two implementations disagree", file=sys.stderr)
        return 1
    times: dict[str, list[float]] = {"before": [], "hmac.HMAC copy": []}
    for r in range(max(1, min(args.rounds, 100))):
        order = [("before", old), ("hmac.HMAC copy", new)]
        for name, keys in (order if r % 2 == 0 else order[::-1]):
            times[name].append(per_tag_us(keys, msgs))
    print(f"{'implementation':<16}{'µs/tag (median)':>18}")
    for name, ts in times.items():
        print(f"{name:<16}{statistics.median(ts):>18.2f}")
    ratio = statistics.median(times["hmac.HMAC copy"]) / statistics.median(times["before"])
    print(f"ratio new/before: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
