import json
from datetime import UTC, datetime

import pytest
from bridgechat.core import protocol as p
from bridgechat.core.protocol import Code, ProtocolError
from hypothesis import given
from hypothesis import strategies as st


def code_of(data: str | bytes) -> Code:
    with pytest.raises(ProtocolError) as e:
        p.decode(data)
    assert e.value.message  # plain words for a person, always
    return e.value.code


def test_every_client_frame_decodes() -> None:
    frames = [
        {"type": "hello", "v": 1, "token": None, "lang": "de"},
        {"type": "join", "prompts": ["home"], "languages": ["en"],
         "profile": {"age_band": "60+"}, "stances": {"home": "agree"}, "group": 3},
        {"type": "leave_queue"},
        {"type": "send", "room": "r", "id": "1", "text": "hi"},
        {"type": "typing", "room": "r"},
        {"type": "resume", "room": "r", "after": 0},
        {"type": "leave", "room": "r"},
        {"type": "report", "room": "r", "reason": "harassment", "messages": []},
        {"type": "block", "room": "r"},
        {"type": "feedback", "room": "r", "common_ground": 4, "again": True},
    ]
    for f in frames:
        assert type(p.decode(json.dumps(f))).__struct_config__.tag == f["type"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("data,code", [
    ("{not json", Code.BAD_JSON),
    ("[1, 2]", Code.BAD_FRAME),
    ('"hello"', Code.BAD_FRAME),
    ('{"v": 1}', Code.BAD_FRAME),
    ('{"type": 7}', Code.BAD_FRAME),
    ('{"type": "dance"}', Code.UNKNOWN_TYPE),
    ('{"type": "send", "room": "r", "id": "1", "text": 5}', Code.BAD_FRAME),
    ('{"type": "send", "room": "r", "text": "x"}', Code.BAD_FRAME),
    ('{"type": "hello", "v": "1"}', Code.BAD_FRAME),
    ('{"type": "hello", "v": true}', Code.BAD_FRAME),
    ('{"type": "join", "prompts": [], "languages": ["en"]}', Code.BAD_FRAME),
    ('{"type": "join", "prompts": ["a","b","c","d","e","f"], "languages": ["en"]}',
     Code.BAD_FRAME),
    ('{"type": "join", "prompts": ["a"], "languages": ["en"], "group": 5}', Code.BAD_FRAME),
    ('{"type": "join", "prompts": ["a"], "languages": ["en"], "mode": "random"}',
     Code.BAD_FRAME),
    ('{"type": "feedback", "room": "r", "common_ground": 6, "again": true}', Code.BAD_FRAME),
    ('{"type": "resume", "room": "r", "after": -1}', Code.BAD_FRAME),
    # A report's reason is a listed code, never free text (docs/protocol.md).
    ('{"type": "report", "room": "r", "reason": "abuse"}', Code.BAD_FRAME),
    ('{"type": "report", "room": "r", "reason": "call me on 555 0100"}', Code.BAD_FRAME),
])
def test_bad_frames_get_stable_codes(data: str, code: Code) -> None:
    assert code_of(data) is code


def test_bad_frame_names_the_offending_id() -> None:
    with pytest.raises(ProtocolError) as e:
        p.decode('{"type": "send", "room": "r", "id": "m-7", "text": null}')
    assert e.value.ref == "m-7"


def test_size_limit_counts_utf8_bytes_not_characters() -> None:
    # 6,000 three-byte characters: under 16 Ki characters, over 16 KiB.
    text = "€" * 6000
    assert code_of(json.dumps({"type": "send", "room": "r", "id": "1", "text": text},
                              ensure_ascii=False)) is Code.TOO_LARGE
    ok = json.dumps({"type": "send", "room": "r", "id": "1", "text": "€" * 2000},
                    ensure_ascii=False)
    assert isinstance(p.decode(ok), p.Send)


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    assert isinstance(p.decode('{"type": "leave_queue", "extra": 1}'), p.LeaveQueue)




def test_server_frames_use_wire_names() -> None:
    out = json.loads(p.encode(p.Message(room="r", seq=1, from_="A", text="t", ts="z", tag="g")))
    assert out == {"type": "message", "room": "r", "seq": 1, "from": "A", "text": "t",
                   "ts": "z", "tag": "g"}
    err = json.loads(p.error_frame(ProtocolError(Code.BAD_JSON)))
    assert err["type"] == "error" and err["code"] == "bad_json" and "ref" not in err
    assert p.iso(0.0) == "1970-01-01T00:00:00.000Z"


def test_every_code_has_plain_words() -> None:
    assert set(p.PLAIN_WORDS) == set(Code)


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_timestamps_read_as_datetime_writes_them(t: float) -> None:
    """Every `ts` is datetime's ISO text to the millisecond, in UTC with Z."""
    def by_datetime(x: float) -> str:
        return datetime.fromtimestamp(x, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"

    # The two round to the microsecond by different float sums, so at an exact
    # half microsecond they may differ by one; a microsecond either way covers it.
    assert p.iso(t) in {by_datetime(t), by_datetime(t - 1e-6), by_datetime(t + 1e-6)}
    assert len(p.iso(t)) == 24
