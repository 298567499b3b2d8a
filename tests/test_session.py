"""The sans-I/O session, driven without sockets and with a hand-made clock."""

from __future__ import annotations

import json

import pytest
from bridgechat.core import protocol
from bridgechat.core.session import (
    CUT_OFF,
    POLICY_VIOLATION,
    REPLACED,
    Limits,
    Phase,
    Reply,
    Session,
)
from hypothesis import given
from hypothesis import strategies as st

HELLO = json.dumps({"type": "hello", "v": 1, "token": None})


def send(i: int) -> str:
    return json.dumps({"type": "send", "room": "r", "id": f"m{i}", "text": "hi"})


def error_of(got: object) -> dict[str, str]:
    assert isinstance(got, Reply), got
    frame: dict[str, str] = json.loads(got.frame)
    assert frame["type"] == "error"
    return frame


def welcomed(limits: Limits | None = None) -> Session:
    s = Session(limits or Limits())
    assert isinstance(s.receive(HELLO, 0.0), protocol.Hello)
    s.welcome("member-1")
    return s


def test_hello_comes_first_and_a_frame_before_it_is_refused_by_code() -> None:
    s = Session()
    err = error_of(s.receive(send(1), 0.0))
    assert err["code"] == "hello_required" and err["ref"] == "m1"
    assert s.phase is Phase.GREETING and s.member is None
    assert isinstance(s.receive(HELLO, 0.1), protocol.Hello)


def test_a_second_hello_is_refused_and_the_session_keeps_its_member() -> None:
    s = welcomed()
    assert error_of(s.receive(HELLO, 1.0))["code"] == "already_welcomed"
    assert s.member == "member-1" and s.phase is Phase.OPEN


def test_only_version_one_is_spoken() -> None:
    s = Session()
    got = s.receive(json.dumps({"type": "hello", "v": 2}), 0.0)
    assert error_of(got)["code"] == "unsupported_version"
    assert s.phase is Phase.GREETING


def test_hello_language_is_reduced_to_its_primary_subtag() -> None:
    s = Session()
    s.receive(json.dumps({"type": "hello", "v": 1, "lang": "pt-BR"}), 0.0)
    assert s.lang == "pt"


def test_bad_frames_past_the_limit_close_with_1008_and_nothing_more_is_read() -> None:
    s = welcomed(Limits(bad_per_minute=3))
    for i in range(3):
        assert error_of(s.receive("{nope", float(i)))["code"] == "bad_json"
    last = s.receive("{nope", 3.0)
    assert isinstance(last, Reply) and last.close == (POLICY_VIOLATION, "too many bad frames")
    assert json.loads(last.frame)["code"] == "too_many_errors"
    assert s.receive(send(1), 4.0) is None


def test_bad_frames_spread_over_more_than_a_minute_do_not_close() -> None:
    s = welcomed(Limits(bad_per_minute=3))
    for i in range(10):
        got = s.receive(b"binary", i * 30.0)
        assert error_of(got)["code"] == "bad_frame"
        assert isinstance(got, Reply) and got.close is None


def test_a_bad_frame_keeps_the_session_state() -> None:
    s = welcomed()
    s.inflight = 2
    assert error_of(s.receive('{"type": "send"}', 0.0))["code"] == "bad_frame"
    assert s.member == "member-1" and s.inflight == 2 and s.phase is Phase.OPEN


def test_unknown_type_and_oversize_frames_have_their_codes() -> None:
    s = welcomed()
    assert error_of(s.receive('{"type": "dance"}', 0.0))["code"] == "unknown_type"
    big = json.dumps({"type": "send", "room": "r", "id": "x", "text": "é" * 9000})
    assert error_of(s.receive(big, 0.0))["code"] == "too_large"


def allowed_at(s: Session, now: float, i: int = 0) -> bool:
    """Receive a `send` at `now`: is it within the rate limit?"""
    assert isinstance(s.receive(send(i), now), protocol.Send)
    return s.allowed


def test_send_rate_limit_refills_with_the_injected_clock() -> None:
    s = welcomed(Limits(send_rate=2.0, send_burst=3.0))
    assert [allowed_at(s, 0.0, i) for i in range(4)] == [True, True, True, False]
    assert not allowed_at(s, 0.1)
    assert allowed_at(s, 0.6)  # 0.5 s at 2/s refilled one token


def test_a_resend_costs_nothing_and_a_failed_send_is_given_back() -> None:
    s = welcomed(Limits(send_rate=0.0, send_burst=2.0))
    assert allowed_at(s, 0.0)
    s.sent(True, fresh=False)  # a resend of a known id: the token comes back
    assert allowed_at(s, 0.0)
    s.send_failed(True)
    assert allowed_at(s, 0.0) and allowed_at(s, 0.0)
    assert not allowed_at(s, 0.0)


def test_a_message_text_is_trimmed_or_refused_with_its_own_code() -> None:
    s = welcomed(Limits(send_rate=0.0, send_burst=2.0))
    got = s.receive(json.dumps({"type": "send", "room": "r", "id": "a", "text": "  hi \n"}), 0.0)
    assert isinstance(got, protocol.Send) and got.text == "hi"
    empty = s.receive(json.dumps({"type": "send", "room": "r", "id": "b", "text": "  "}), 0.0)
    words = protocol.PLAIN_WORDS[protocol.Code.TEXT_EMPTY]
    assert error_of(empty) == {"type": "error", "code": "text_empty", "message": words, "ref": "b"}
    long = s.receive(json.dumps({"type": "send", "room": "r", "id": "c", "text": "x" * 2001}), 0.0)
    assert error_of(long)["code"] == "text_too_long"
    # "hi" took one of the two tokens; the refused texts took none.
    assert allowed_at(s, 0.0) and not allowed_at(s, 0.0)


def test_typing_is_passed_on_at_most_once_a_second() -> None:
    s = welcomed()
    assert [s.may_type(t) for t in (0.0, 0.5, 0.99, 1.0, 1.5, 2.1)] == [
        True, False, False, True, False, True]


def test_frames_other_than_send_wait_for_messages_under_way() -> None:
    s = welcomed()
    leave = s.receive(json.dumps({"type": "leave", "room": "r"}), 0.0)
    chat = s.receive(send(1), 0.0)
    assert isinstance(leave, protocol.Leave) and isinstance(chat, protocol.Send)
    assert not s.must_wait(leave)
    s.inflight = 1
    assert s.must_wait(leave) and not s.must_wait(chat)


@pytest.mark.parametrize("why", [REPLACED, CUT_OFF])
def test_a_replaced_or_cut_off_session_ignores_everything(why: tuple[int, str]) -> None:
    s = welcomed()
    assert s.end(why) == why
    assert s.receive(send(1), 0.0) is None
    assert s.receive("{bad", 0.0) is None


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_any_input_gets_a_frame_or_an_error_never_an_exception(data: str | bytes) -> None:
    s = welcomed()
    got = s.receive(data, 0.0)
    assert got is not None
    if isinstance(got, Reply):
        assert json.loads(got.frame)["type"] == "error"


@pytest.mark.parametrize("text,code", [
    ("", "text_empty"), ("   \n\t", "text_empty"), ("x" * 2001, "text_too_long"),
])
def test_text_rules(text: str, code: str) -> None:
    s = welcomed()
    got = s.receive(json.dumps({"type": "send", "room": "r", "id": "t", "text": text}), 0.0)
    assert error_of(got)["code"] == code


def test_text_is_counted_in_code_points() -> None:
    s = welcomed()
    frame = {"type": "send", "room": "r", "id": "t", "text": "😀" * 2000}
    got = s.receive(json.dumps(frame, ensure_ascii=False), 0.0)
    assert isinstance(got, protocol.Send) and len(got.text) == 2000


def test_a_silent_member_is_pinged_after_the_interval_then_dropped_after_half() -> None:
    s = welcomed()  # heard at 0.0 (its hello)
    assert [s.liveness(t, 30.0) for t in (10.0, 29.9)] == [None, None]
    assert s.liveness(30.0, 30.0) == "ping"
    assert s.liveness(40.0, 30.0) is None  # one ping, then wait for the answer
    assert s.liveness(45.0, 30.0) == "hang up"


def test_any_frame_ping_or_pong_counts_as_an_answer() -> None:
    s = welcomed()
    assert s.liveness(30.0, 30.0) == "ping"
    s.heard(31.0)  # the pong
    assert s.liveness(50.0, 30.0) is None
    assert s.liveness(61.0, 30.0) == "ping"
    s.receive("{not json", 62.0)  # even a bad frame shows the member is there
    assert s.liveness(80.0, 30.0) is None
    assert s.liveness(92.0, 30.0) == "ping"


def test_a_session_that_ended_needs_no_heartbeat() -> None:
    s = welcomed()
    s.end(REPLACED)
    assert s.liveness(1000.0, 30.0) is None
