"""A stand-in for a node's Inbox that records what a broker hands it (broker tests)."""

from __future__ import annotations

from collections.abc import Sequence

from bridgechat.broker import Said


class Inbox:
    """Records what a broker hands its node, in order: (callback, member, frame or Said)."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str, object]] = []

    def deliver(self, member: str, frame: bytes) -> None:
        self.got.append(("deliver", member, frame))

    def hear(self, members: Sequence[str], said: Said) -> None:
        self.got.extend(("hear", m, said) for m in members)

    def cut(self, member: str, frame: bytes) -> None:
        self.got.append(("cut", member, frame))

    def missed(self) -> None:
        self.got.append(("missed", "", b""))
