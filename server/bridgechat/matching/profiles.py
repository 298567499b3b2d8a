"""The distinct profiles of one round, and the weighted divides between them.

A round gives every distinct profile (the member's answers to the deck's
profile questions) a dense id, so that its hot loops compare small integers
instead of tuples of strings. Profiles holds, per id, the answers by
dimension, the age rank and a bit code of the answers, and it tabulates the
divides between two profiles: on first use one pair at a time, or all at
once as a matrix while the profiles are few.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence

from bridgechat.core.deck import Dimension
from bridgechat.matching.tickets import Policy

__all__ = ["Profiles"]


class _DivideTable(dict[int, float]):
    """Divides between profile pairs, keyed (a << 24) | b, computed on first use."""

    # A dict subclass so that hot comprehensions index it at C speed. It holds
    # the profiles' vectors, not the Profiles, so that no reference cycle
    # outlives a round: all a round builds is freed by reference counting.
    def __init__(self, vectors: list[tuple[str | None, ...]],
                 weights: tuple[float, ...]) -> None:
        super().__init__()
        self.vectors = vectors
        self.weights = weights

    def __missing__(self, key: int) -> float:
        d = self[key] = self.compute(key >> 24, key & 0xFFFFFF)
        return d

    def compute(self, a: int, b: int) -> float:
        """Weighted profile divides crossed by two profiles."""
        d = 0.0
        for x, y, w in zip(self.vectors[a], self.vectors[b], self.weights, strict=True):
            if x is not None and y is not None and x != y:
                d += w
        return d


class Profiles:
    """Dense ids for the distinct profiles of a round, and the divides between them."""

    def __init__(self, dimensions: Sequence[Dimension], policy: Policy) -> None:
        self.dimensions = tuple(dimensions)
        self.position = {d.id: k for k, d in enumerate(self.dimensions)}
        self.weights = tuple(d.weight for d in self.dimensions)
        self.ids: dict[tuple[tuple[str, str], ...], int] = {}
        self.vectors: list[tuple[str | None, ...]] = []
        self.ranks: list[int] = []
        self.codes: list[tuple[int, int]] = []
        self.values: dict[int, dict[str, int]] = {}
        self.table = _DivideTable(self.vectors, self.weights)
        age = self.position.get(policy.age_dimension)
        self.age = age
        self.age_buckets = self.dimensions[age].buckets if age is not None else ()
        span = len(self.age_buckets) - 1
        # Squared, so that youngest-with-oldest beats two middling gaps.
        self.generation_step = policy.generations_weight / span ** 2 if span > 0 else 0.0

    def id_of(self, profile: tuple[tuple[str, str], ...]) -> int:
        """The dense id of a profile, created on first sight."""
        known = self.ids.get(profile)
        if known is not None:
            return known
        vector: list[str | None] = [None] * len(self.dimensions)
        for dim, bucket in profile:
            k = self.position.get(dim)
            if k is not None:
                vector[k] = bucket
        rank = -1
        if self.age is not None and vector[self.age] in self.age_buckets:
            rank = self.age_buckets.index(vector[self.age])
        new = len(self.vectors)
        self.ids[profile] = new
        self.vectors.append(tuple(vector))
        self.ranks.append(rank)
        self.codes.append(self._code(vector))
        return new

    def _code(self, vector: Sequence[str | None]) -> tuple[int, int]:
        """A profile as (values, answered), 16 bits per dimension, for crossed_mask()."""
        values = answered = 0
        for k, value in enumerate(vector):
            if value is None:
                continue
            seen = self.values.setdefault(k, {})
            values |= seen.setdefault(value, len(seen) + 1) << (16 * k)
            answered |= 0xFFFF << (16 * k)
        return values, answered

    def crossed_mask(self, a: int, b: int) -> int:
        """Dimensions two profiles cross: a field is non-zero where both answered and differ."""
        (va, aa), (vb, ab) = self.codes[a], self.codes[b]
        return (va ^ vb) & aa & ab

    def divide(self, a: int, b: int) -> float:
        """Weighted profile divides crossed by two profiles (cached)."""
        return self.table[(a << 24) | b]

    def compute(self, a: int, b: int) -> float:
        """Weighted profile divides crossed by two profiles."""
        return self.table.compute(a, b)

    def matrix(self, limit: int) -> list[list[float]] | None:
        """Divides between every two profiles seen so far, or None past `limit` profiles."""
        count = len(self.vectors)
        if count > limit:
            return None
        columns = list(zip(*self.vectors, strict=True)) if self.vectors else []
        parts: dict[tuple[int, str], list[float]] = {}
        rows = []
        for vector in self.vectors:
            row: list[float] | None = None
            for k, value in enumerate(vector):
                if value is None:
                    continue
                part = parts.get((k, value))
                if part is None:
                    w = self.weights[k]
                    part = parts[(k, value)] = [w if x is not None and x != value else 0.0
                                                for x in columns[k]]
                row = part if row is None else list(map(operator.add, row, part))
            rows.append(list(row) if row is not None else [0.0] * count)
        return rows

    def generations(self, classes: Iterable[int]) -> float:
        """Bonus for the age span of a group in generations mode."""
        ranks = [self.ranks[c] for c in classes if self.ranks[c] >= 0]
        return (max(ranks) - min(ranks)) ** 2 * self.generation_step if len(ranks) > 1 else 0.0

    def crossed(self, classes: Sequence[int]) -> list[int]:
        """Positions of the dimensions a group crosses as a whole."""
        out = []
        for k in range(len(self.dimensions)):
            values = {self.vectors[c][k] for c in classes} - {None}
            if len(values) > 1:
                out.append(k)
        return out
