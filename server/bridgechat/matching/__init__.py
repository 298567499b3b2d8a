"""Matching: tickets in, groups with reasons out (pure).

No I/O, no clock, no global randomness, no process-wide switches: the caller
passes the time and a seed, so the same pool, time and seed always give the
same rooms. The rules are explained in docs/matching.md.

The modules, each importing only those listed before it:

- tickets: what the engine is given (Ticket, Policy, Constraints, MODES, SIZES)
- results: what it gives back (Group, Reason, Suggestion, RoundResult)
- profiles: dense profile ids of a round and the divides between them
- rules: who may meet, how a room is scored and described, the wait estimate
- catalog, reasons: the texts members read, and putting them together
- pool: the per-ticket view of one round's waiting pool
- solve: the edge list and the solvers (auction, greedy, repairs)
- candidates: which pairs are worth weighing
- stuck: advice for members nobody can meet
- round: one batch round, and match_round, the entry point
- hand: a moderator's hand-match: what may not be overruled, and why the matcher had not
"""

from bridgechat.matching.hand import Finding, HandCheck, check_hand
from bridgechat.matching.reasons import because
from bridgechat.matching.results import Group, Reason, RoundResult, Suggestion
from bridgechat.matching.round import match_round
from bridgechat.matching.rules import compatible, eta_s, fits, languages_for, score_group
from bridgechat.matching.tickets import MODES, SIZES, Constraints, Policy, Ticket

__all__ = [
    "MODES",
    "SIZES",
    "Constraints",
    "Finding",
    "Group",
    "HandCheck",
    "Policy",
    "Reason",
    "RoundResult",
    "Suggestion",
    "Ticket",
    "because",
    "check_hand",
    "compatible",
    "eta_s",
    "fits",
    "languages_for",
    "match_round",
    "score_group",
]
