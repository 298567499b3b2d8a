"""Aggregate figures for funders and policymakers, with small counts suppressed.

Pure: conversation records in, `Figures` (then JSON or CSV rows) out; time and
randomness come in as arguments. docs/privacy.md explains the rules to an
operator; here is why they are shaped so.

Every count shown is at least MIN_COUNT (11). Hiding the small cells alone
is not enough: a hidden week could be recovered as the total minus the
weeks shown, and a hidden "did not cross" count as conversations minus
"crossed". So the report is a set of sums (each total is the sum of its
parts: weeks, prompts, duration buckets, crossed + not crossed, crossing two
divides or more + fewer), and
`protect` keeps hiding the smallest shown count that a subtraction (or a
chain of them) recovering a count from 1 to 10 starts from, until none does.

With `epsilon`, counts get Laplace noise instead (differential privacy,
so no secondary suppression is needed) and are then suppressed below 11
all the same, so no count under 11 is ever shown in either mode.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypedDict

MIN_COUNT = 11
DURATIONS = ("0-5", "5-15", "15-30", "30-60", "60+")  # minutes
_BOUNDS = (5 * 60, 15 * 60, 30 * 60, 60 * 60)
MAX_GROUP = 4  # the largest room protocol.md allows: bounds one record's feedback
MAX_SCORE = 5
# One record counts in the total, its week and its prompt.
ROWS_PER_RECORD = 3
# Noise families: the privacy budget is split evenly between them; the value is
# how much one record can change the family's counts in one row (L1; None: one
# per dimension, as a conversation crosses each dimension at most once).
SENSITIVITY = {"conversations": 1, "duration": 1, "crossed": None, "crossed2": 1,
               "feedback": MAX_GROUP, "again": MAX_GROUP, "common_ground": MAX_GROUP * MAX_SCORE}
# Counted metrics that are the sum of two parts in every row: (whole, part, complement).
# "crossed2" is a conversation crossing two divides or more, the headline share.
SPLITS = (("feedback", "again", "not_again"), ("conversations", "crossed2", "not_crossed2"))
Cell = tuple[str, str, str]  # (scope, key, metric)


@dataclass(frozen=True, slots=True)
class Conversation:
    """One stored record: no member id, no room id, no text."""

    prompt: str
    day: str
    size: int
    divides: tuple[str, ...]
    duration: str
    feedback: int = 0
    common_ground: int = 0
    again: int = 0
    event: str | None = None  # the slug of the event whose lobby opened the room


def crosses_two(r: Conversation) -> bool:
    return len(set(r.divides)) >= 2


def duration_bucket(seconds: float) -> str:
    """A coarse length: enough for 'how long do people talk', too coarse to identify a chat."""
    for bound, name in zip(_BOUNDS, DURATIONS, strict=False):
        if seconds < bound:
            return name
    return DURATIONS[-1]


def iso_week(day: str) -> str:
    y, w, _ = date.fromisoformat(day).isocalendar()
    return f"{y}-W{w:02d}"


def weeks_from(first_day: str, last_day: str) -> list[str]:
    """Every ISO week from the one holding first_day to the one holding last_day."""
    d, end = date.fromisoformat(first_day), date.fromisoformat(last_day)
    d -= timedelta(days=d.weekday())
    out = []
    while d <= end:
        out.append(iso_week(d.isoformat()))
        d += timedelta(days=7)
    return out


def laplace(scale: float, rng: random.Random) -> float:
    """One draw of Laplace(0, scale): the difference of two exponentials (no log(0) edge)."""
    return rng.expovariate(1.0 / scale) - rng.expovariate(1.0 / scale)


# -- counting -------------------------------------------------------------------

def tally(records: Iterable[Conversation], weeks: Sequence[str], prompts: Sequence[str],
          dims: Sequence[str]) -> dict[Cell, int]:
    """Every count of every row (total, each week, each prompt), zeros included."""
    metrics = ["conversations", "feedback", "again", "not_again", "common_ground",
               "crossed2", "not_crossed2", *(f"duration:{b}" for b in DURATIONS),
               *(f"{m}:{d}" for d in dims for m in ("crossed", "not_crossed"))]
    rows = [("total", "all"), *(("week", w) for w in weeks), *(("prompt", p) for p in prompts)]
    counts: dict[Cell, int] = {(s, k, m): 0 for s, k in rows for m in metrics}
    for r in records:
        for scope, key in (("total", "all"), ("week", iso_week(r.day)), ("prompt", r.prompt)):
            if (scope, key, "conversations") not in counts:
                continue  # a week or prompt outside the asked domain
            add = {"conversations": 1, "feedback": r.feedback, "again": r.again,
                   "not_again": r.feedback - r.again, "common_ground": r.common_ground,
                   f"duration:{r.duration}": 1,
                   "crossed2" if crosses_two(r) else "not_crossed2": 1}
            for d in dims:
                add[f"crossed:{d}" if d in r.divides else f"not_crossed:{d}"] = 1
            for metric, n in add.items():
                if (scope, key, metric) in counts:
                    counts[(scope, key, metric)] += n
    return counts


def equations(weeks: Sequence[str], prompts: Sequence[str],
              dims: Sequence[str]) -> list[tuple[Cell, list[Cell]]]:
    """Every published total with the parts it is the sum of."""
    counted = ["conversations", "feedback", "again", "not_again", "crossed2", "not_crossed2",
               *(f"duration:{b}" for b in DURATIONS),
               *(f"{m}:{d}" for d in dims for m in ("crossed", "not_crossed"))]
    eqs: list[tuple[Cell, list[Cell]]] = []
    for m in counted:
        eqs.append((("total", "all", m), [("week", w, m) for w in weeks]))
        eqs.append((("total", "all", m), [("prompt", p, m) for p in prompts]))
    rows = [("total", "all"), *(("week", w) for w in weeks), *(("prompt", p) for p in prompts)]
    for s, k in rows:
        eqs.append(((s, k, "conversations"), [(s, k, f"duration:{b}") for b in DURATIONS]))
        for whole, part, rest in SPLITS:
            eqs.append(((s, k, whole), [(s, k, part), (s, k, rest)]))
        for d in dims:
            eqs.append(((s, k, "conversations"), [(s, k, f"crossed:{d}"),
                                                  (s, k, f"not_crossed:{d}")]))
    return [(t, parts) for t, parts in eqs if parts]


def published(cell: Cell) -> bool:
    """Complements ("did not cross", "would not meet again") only exist to be protected."""
    return not cell[2].startswith("not_") and cell[2] != "common_ground"


# -- suppression ----------------------------------------------------------------

def _closure(values: dict[Cell, int], hidden: set[Cell],
             eqs: list[tuple[Cell, list[Cell]]]) -> tuple[set[Cell], dict[Cell, int]]:
    """Cells a reader can work out from the shown ones, and which equation gave each."""
    known = {c for c in values if c not in hidden}
    via: dict[Cell, int] = {}
    grew = True
    while grew:
        grew = False
        for i, (total, parts) in enumerate(eqs):
            unknown = [p for p in parts if p not in known]
            if total in known and len(unknown) == 1:
                known.add(unknown[0])
                via[unknown[0]] = i
                grew = True
            elif total not in known and not unknown:
                known.add(total)
                via[total] = i
                grew = True
    return known, via


def _leak(values: dict[Cell, int], hidden: set[Cell], known: set[Cell],
          eqs: list[tuple[Cell, list[Cell]]], k: int) -> list[Cell] | None:
    """Cells from which a reader works out a count from 1 to k-1, if any do."""
    for c in sorted(known):
        if c in hidden and 0 < values[c] < k:
            return [c]  # a hidden count that subtraction recovers
    for total, parts in eqs:
        if total in known and 0 < sum(values[p] for p in parts if p not in known) < k:
            return [total, *(p for p in parts if p in known)]  # a small sum of hidden parts
    return None


def _sources(cells: list[Cell], hidden: set[Cell], eqs: list[tuple[Cell, list[Cell]]],
             via: dict[Cell, int]) -> set[Cell]:
    """The shown counts these cells are, or are worked out from (through any chain)."""
    out: set[Cell] = set()
    stack, seen = list(cells), set(cells)
    while stack:
        c = stack.pop()
        if c not in hidden:
            out.add(c)
            continue
        total, parts = eqs[via[c]]
        for other in (total, *parts):
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return out


def protect(values: dict[Cell, int], eqs: list[tuple[Cell, list[Cell]]],
            k: int = MIN_COUNT) -> set[Cell]:
    """The cells to hide so that no count from 1 to k-1 is shown or can be worked out.

    Primary: every count under k (zero included: nothing under 11 is shown).
    Secondary: while subtraction still leads to a small count, hide the
    smallest shown count that the subtraction starts from.
    """
    hidden = {c for c, v in values.items() if not published(c) or v < k}
    while True:
        known, via = _closure(values, hidden, eqs)
        leak = _leak(values, hidden, known, eqs, k)
        if leak is None:
            return hidden
        sources = _sources(leak, hidden, eqs, via)
        if not sources:  # cannot happen: whatever is known rests on something shown
            raise AssertionError(f"suppression found no shown count behind {leak}")
        hidden.add(min(sources, key=lambda c: (values[c], c)))


def add_noise(values: dict[Cell, int], epsilon: float, dims: Sequence[str],
              rng: random.Random) -> tuple[dict[Cell, int], dict[str, float]]:
    """Laplace noise on every count; the budget epsilon covers the whole report.

    The unit protected is one conversation with all its feedback. Each of the n
    families (SENSITIVITY) gets epsilon / n and noise of scale
    ROWS_PER_RECORD * sensitivity / (epsilon / n), so by composition the whole
    report is epsilon-differentially private.
    """
    share = epsilon / len(SENSITIVITY)
    scales = {f: ROWS_PER_RECORD * (s if s is not None else max(1, len(dims))) / share
              for f, s in SENSITIVITY.items()}
    noisy: dict[Cell, int] = {}
    for cell, v in sorted(values.items()):
        family = cell[2].split(":")[0]
        if family in scales:
            noisy[cell] = max(0, round(v + laplace(scales[family], rng)))
    return noisy, scales


# -- the report -----------------------------------------------------------------

class Share(TypedDict):
    count: int | None
    share: float | None


class Row(TypedDict):
    """One row's figures; None wherever a count was suppressed."""

    conversations: int | None
    crossed: dict[str, Share]
    crossed2: Share  # crossing two divides or more
    duration: dict[str, int | None]
    feedback: int | None
    common_ground: float | None
    meet_again: Share


@dataclass(frozen=True, slots=True)
class Figures:
    generated: str
    dimensions: list[str]
    noise: dict[str, object] | None
    rows: list[tuple[str, str, Row]]  # (scope, key, figures): total first, weeks, prompts
    event: str | None = None  # the figures are this event's alone (None: every record)


def _ratio(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(min(1.0, part / whole), 3)


def _row(values: dict[Cell, int], shown: set[Cell], scope: str, key: str,
         dims: Sequence[str]) -> Row:
    def count(metric: str) -> int | None:
        cell = (scope, key, metric)
        return values[cell] if cell in shown else None

    n, fb, again = count("conversations"), count("feedback"), count("again")
    two = count("crossed2")
    score = values.get((scope, key, "common_ground"))
    # A mean over at least 11 answers, shown exactly where their count is.
    mean = None if fb is None or score is None else min(5.0, max(1.0, round(score / fb, 2)))
    crossed = {d: count(f"crossed:{d}") for d in dims}
    return Row(conversations=n,
               crossed={d: Share(count=c, share=_ratio(c, n)) for d, c in crossed.items()},
               crossed2=Share(count=two, share=_ratio(two, n)),
               duration={b: count(f"duration:{b}") for b in DURATIONS},
               feedback=fb, common_ground=mean,
               meet_again=Share(count=again, share=_ratio(again, fb)))


def figures(records: Sequence[Conversation], prompts: Iterable[str], dims: Iterable[str],
            today: str, epsilon: float | None = None,
            rng: random.Random | None = None, event: str | None = None) -> Figures:
    """The whole report: a total, one row per week and one per prompt.

    Weeks run from the first record's week to today's and prompts are all
    those given (plus any a record names), so which rows appear depends on
    the calendar and the deck, not on how many talked when. With `event`,
    only that event's records count, under the same rules: a small event
    shows nothing at all.
    """
    if event is not None:
        records = [r for r in records if r.event == event]
    weeks = weeks_from(min(r.day for r in records), today) if records else []
    prompt_ids = sorted(set(prompts) | {r.prompt for r in records})
    dim_ids = list(dict.fromkeys([*dims, *(d for r in records for d in r.divides)]))
    values = tally(records, weeks, prompt_ids, dim_ids)
    noise: dict[str, object] | None = None
    if epsilon is None:
        hidden = protect(values, equations(weeks, prompt_ids, dim_ids))
        shown = {c for c in values if c not in hidden}
    else:
        values, scales = add_noise(values, epsilon, dim_ids, rng or random.Random())
        shown = {c for c, v in values.items() if published(c) and v >= MIN_COUNT}
        noise = {"mechanism": "laplace", "epsilon": epsilon,
                 "unit": "one conversation with all its feedback", "scale": scales}
    keys = [("total", "all"), *(("week", w) for w in weeks), *(("prompt", p) for p in prompt_ids)]
    return Figures(today, dim_ids, noise,
                   [(s, k, _row(values, shown, s, k, dim_ids)) for s, k in keys], event)


def as_json(fig: Figures) -> dict[str, object]:
    by: dict[str, list[dict[str, object]]] = {"week": [], "prompt": []}
    for scope, key, row in fig.rows[1:]:
        by[scope].append({scope: key, **row})
    return {"generated": fig.generated, "event": fig.event, "min_count": MIN_COUNT,
            "noise": fig.noise,
            "dimensions": fig.dimensions, "durations_minutes": list(DURATIONS),
            "total": fig.rows[0][2], "by_week": by["week"], "by_prompt": by["prompt"]}


def as_csv(fig: Figures) -> list[list[str]]:
    """A header, then one line per row; a suppressed cell is empty."""
    dims = fig.dimensions
    lines = [["scope", "key", "conversations",
              *(f"crossed_{d}" for d in dims), *(f"crossed_{d}_share" for d in dims),
              "crossed2", "crossed2_share",
              *(f"minutes_{b}" for b in DURATIONS),
              "feedback", "common_ground_mean", "meet_again", "meet_again_share"]]
    for scope, key, r in fig.rows:
        cells = [scope, key, r["conversations"],
                 *(r["crossed"][d]["count"] for d in dims),
                 *(r["crossed"][d]["share"] for d in dims),
                 r["crossed2"]["count"], r["crossed2"]["share"],
                 *(r["duration"][b] for b in DURATIONS),
                 r["feedback"], r["common_ground"], r["meet_again"]["count"],
                 r["meet_again"]["share"]]
        lines.append(["" if c is None else str(c) for c in cells])
    return lines
