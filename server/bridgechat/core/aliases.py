"""Friendly aliases for members of a room: never their ids, never reused in a room."""

from __future__ import annotations

import random

ADJECTIVES = (
    "Amber", "Brave", "Calm", "Clever", "Coral", "Curious", "Gentle", "Golden", "Green",
    "Hazel", "Honest", "Indigo", "Jolly", "Kind", "Lively", "Mellow", "Misty", "Patient",
    "Quiet", "Rosy", "Silver", "Steady", "Sunny", "Swift", "Teal", "Warm", "Wise", "Witty",
)
NOUNS = (
    "Badger", "Birch", "Brook", "Cedar", "Comet", "Crane", "Dove", "Falcon", "Fern", "Fox",
    "Harbour", "Heron", "Lark", "Maple", "Meadow", "Otter", "Owl", "Pine", "Puffin",
    "Raven", "River", "Robin", "Sparrow", "Swan", "Thistle", "Willow", "Wren",
)


def pick_aliases(n: int, rng: random.Random) -> list[str]:
    """n distinct aliases such as "Calm Heron"."""
    seen: set[str] = set()
    while len(seen) < n:
        seen.add(f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}")
    out = list(seen)
    rng.shuffle(out)
    return out
