"""Record and replay core: the codec gives back equal objects for every real event, the file
format checks what it reads and says where it is wrong, a hostile file is made harmless, and
the player keeps order, pace, pause and single steps (with a fake sleep, not real time)."""

from __future__ import annotations

import asyncio
import functools
import importlib
import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import pytest

from mxtui import record
from mxtui.delivery import Walk
from mxtui.dns import resolve_mx
from mxtui.lab.hosts import relay_profiles
from mxtui.lab.runtime import Lab
from mxtui.lab.scenarios import list_scenarios
from mxtui.model import (
    Credentials,
    DataProgress,
    Envelope,
    PlanResolved,
    Reply,
    Stage,
    StepDone,
    StepResult,
    TranscriptLine,
    WalkEnded,
)
from mxtui.record import (
    Entry,
    Player,
    Recorder,
    Recording,
    RecordingError,
    decode,
    dumps,
    encode,
    load_recording,
)

STEP = StepResult(Stage.EHLO, ("EHLO me",), Reply(250, "hi", None, ("250 hi",)), 3.0)


def through_json(event: Any) -> Any:
    return decode(json.loads(json.dumps(encode(event))))


# --------------------------------------------------------------------------------------------
# Codec: round trip on real events
# --------------------------------------------------------------------------------------------


async def _scenario_events(scenario: Any) -> list[Any]:
    events: list[Any] = []
    async with scenario.lab() as lab:
        plan = await resolve_mx(
            scenario.domain, nameservers=lab.nameservers, timeout=2, on_event=events.append
        )
        walk = Walk(
            plan, scenario.envelope, dialer=lab.dialer, profile=scenario.profile, seed=1,
            relays=relay_profiles(scenario.hosts),
            on_event=events.append, on_session_event=events.append,
        )  # fmt: skip
        lab.attach(walk.clock)
        await walk.run()
        if walk.result is not None and walk.result.next_retry_s is not None:
            await walk.fast_forward_to_next_retry()
    return events


@functools.cache
def scenario_events(name: str) -> tuple[Any, ...]:
    """The events of one walk of scenario `name` (made once per test run, in any order)."""
    scenario = next(s for s in list_scenarios() if s.name == name)
    return tuple(asyncio.run(_scenario_events(scenario)))


@pytest.mark.parametrize("name", [s.name for s in list_scenarios()])
def test_every_event_of_every_scenario_walk_survives_the_round_trip(name: str) -> None:
    events = scenario_events(name)
    assert any(isinstance(e, WalkEnded) for e in events)
    for event in events:
        assert through_json(event) == event


def test_the_scenario_walks_cover_every_kind_of_walk_and_session_event() -> None:
    seen = {type(e).__name__ for s in list_scenarios() for e in scenario_events(s.name)}
    expected = {"WalkStarted", "AttemptStarted", "StepDone", "AttemptEnded", "RecipientState"}
    expected |= {"WalkEnded", "HopStarted", "HopEnded", "TranscriptLine", "StepResult"}
    assert expected <= seen


async def test_every_resolve_event_of_the_demo_lab_survives_the_round_trip() -> None:
    seen: list[Any] = []
    async with Lab() as lab:
        for domain, _title in lab.examples:
            if domain.startswith("silent."):
                continue  # a DNS timeout: slow, and its plan is like broken.'s
            await resolve_mx(domain, nameservers=lab.nameservers, timeout=1, on_event=seen.append)
    assert {type(e).__name__ for e in seen} == {"MXAnswered", "HostResolved", "PlanResolved"}
    for event in seen:
        assert through_json(event) == event
    # The plans really vary: null MX, NXDOMAIN, SERVFAIL, a CNAME target, problems.
    statuses = {e.plan.status for e in seen if isinstance(e, PlanResolved)}
    assert {"mx", "implicit-mx", "null-mx", "nxdomain", "servfail"} <= statuses


def test_dataclasses_are_tagged_by_class_name_and_enums_written_as_their_value() -> None:
    line = TranscriptLine("recv", "220 hi", 1.5, stage=Stage.GREETING)
    assert encode(line) == {
        "type": "TranscriptLine", "dir": "recv", "text": "220 hi", "t_ms": 1.5,
        "encrypted": False, "stage": "greeting",
    }  # fmt: skip
    assert through_json(DataProgress(10, 20)) == DataProgress(10, 20)


def test_a_password_is_never_written() -> None:
    envelope = Envelope("a@x", ("b@y",), credentials=Credentials("me", "hunter22"))
    text = json.dumps(encode(envelope))
    assert "hunter22" not in text
    assert decode(json.loads(text)).credentials == Credentials("me", record.SECRET_MASK)


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Later:
    """A type another helper could add to the model after this codec was written."""

    type: str
    colour: Colour
    pair: tuple[int, str]
    many: tuple[Stage, ...]
    by_name: dict[str, Reply]
    kind: Literal["a", "b"]
    raw: bytes
    when: datetime
    maybe: Reply | None = None
    number: float = 0.0


@pytest.fixture
def later_in_model(monkeypatch: pytest.MonkeyPatch) -> type:
    topic = importlib.import_module("mxtui.model.walk")
    monkeypatch.setattr(Later, "__module__", topic.__name__)
    monkeypatch.setattr(topic, "Colour", Colour, raising=False)
    monkeypatch.setattr(topic, "datetime", datetime, raising=False)
    monkeypatch.setattr(topic, "Later", Later, raising=False)
    monkeypatch.setattr(record.codec, "_registry", None)
    monkeypatch.setattr(record.codec, "_hints", {})
    return Later


def test_a_type_added_to_the_model_later_round_trips_by_its_hints(later_in_model: type) -> None:
    later = later_in_model(
        type="x", colour=Colour.BLUE, pair=(1, "one"), many=(Stage.EHLO, Stage.RCPT),
        by_name={"a": Reply(250, "ok", "2.0.0", ("250 2.0.0 ok",))}, kind="b",
        raw=b"\x00\xffbytes", when=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        maybe=Reply(451), number=2,
    )  # fmt: skip
    data = encode(later)
    assert data["type"] == "Later" and data["fields"]["type"] == "x"  # a "type" field nests
    back = through_json(later)
    assert back == later
    assert isinstance(back.number, float) and isinstance(back.many, tuple)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"type": "NoSuchEvent"}, "unknown event type 'NoSuchEvent'"),
        ({"type": "DataProgress", "sent": "10", "total": 20}, "DataProgress.sent: expected int"),
        ({"type": "DataProgress", "sent": True, "total": 20}, "expected int, got bool"),
        ({"type": "DataProgress", "sent": 1}, "missing the field 'total'"),
        ({"type": "DataProgress", "sent": 1, "total": 2, "x": 3}, "has no field 'x'"),
        ({"type": "TranscriptLine", "dir": "up", "text": "", "t_ms": 0}, "'up' is not one of"),
        (
            {"type": "TranscriptLine", "dir": "recv", "text": "", "t_ms": 0, "stage": "nope"},
            "'nope' is not a Stage",
        ),
        (
            {"type": "MXAnswered", "plan": {"type": "Reply", "code": 250}},
            "expected a MXPlan, got 'Reply'",
        ),
        ({"type": "Reply", "code": 250, "lines": "250 ok"}, "Reply.lines: expected a list"),
        (
            {
                "type": "StepDone",
                "target": None,
                "stage": "ehlo",
                "decision": None,
                "step": {**encode(STEP), "reply": {"type": "Reply", "code": "250"}},
            },
            "StepDone.step.reply.code: expected int, got str",
        ),
    ],
)
def test_a_bad_event_is_a_recording_error_naming_the_bad_part(data: Any, words: str) -> None:
    with pytest.raises(RecordingError, match=r"^[^\n]+$") as caught:
        decode(data)
    assert words in str(caught.value)


def test_deep_nesting_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(_header() + "\n" + f'{{"t": 0, "event": {deep}}}\n')
    with pytest.raises(RecordingError, match="line 2: nested too deeply"):
        load_recording(path)


# --------------------------------------------------------------------------------------------
# File format
# --------------------------------------------------------------------------------------------

EVENTS = (
    TranscriptLine("sent", "EHLO me", 1.0, stage=Stage.EHLO),
    TranscriptLine("recv", "250 hi", 2.0, stage=Stage.EHLO),
    StepDone(None, Stage.EHLO, STEP, None),
)


def _write(path: Path, times: tuple[float, ...] = (0.0, 0.5, 1.25)) -> None:
    with Recorder(path, kind="session", domain="example.com", profile="exim", seed=7) as rec:
        for event, t in zip(EVENTS, times, strict=True):
            rec.write(event, t=t)


def test_a_recording_reads_back_as_its_header_and_timed_events(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    _write(path)
    loaded = load_recording(path)
    assert loaded.header["mxtui"] == "recording" and loaded.header["version"] == 1
    assert (loaded.header["kind"], loaded.header["domain"]) == ("session", "example.com")
    assert (loaded.header["profile"], loaded.header["seed"], loaded.header["scenario"]) == (
        "exim", 7, None,
    )  # fmt: skip
    created = datetime.fromisoformat(loaded.header["created"])
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0
    assert loaded.entries == tuple(Entry(t, e) for t, e in zip((0, 0.5, 1.25), EVENTS, strict=True))
    assert loaded.note == "" and loaded.duration == 1.25 and loaded.kind == "session"


def test_each_event_is_on_disk_as_soon_as_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = Recorder(path, kind="walk")
    rec.write(EVENTS[0])
    # Not closed: a demo killed now must still leave a replayable file.
    assert load_recording(path).entries[0].event == EVENTS[0]
    assert 0 <= load_recording(path).entries[0].t < 60
    rec.close()


def test_a_recorder_on_an_open_text_file_leaves_it_open() -> None:
    out = io.StringIO()
    with Recorder(out, kind="walk", domain="d.example") as rec:
        rec.write(EVENTS[0], t=0)
    assert not out.closed
    header, line = out.getvalue().splitlines()
    assert json.loads(header)["domain"] == "d.example"
    assert json.loads(line)["event"]["type"] == "TranscriptLine"


def test_a_recorder_refuses_an_unknown_kind_and_an_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind"):
        Recorder(io.StringIO(), kind="movie")
    with pytest.raises(RecordingError, match=r"cannot write the recording .*nowhere"):
        Recorder(tmp_path / "nowhere" / "r.jsonl", kind="walk")


def _header(**changes: Any) -> str:
    header = {"mxtui": "recording", "version": 1, "kind": "walk", "domain": "x.example"}
    header.update(changes)
    return json.dumps(header)


def _event_line(event: Any = EVENTS[0], t: float = 0.0) -> str:
    return json.dumps({"t": t, "event": encode(event)})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty file"),
        ("hello\n", "not an mxtui recording"),
        ('{"mxtui": "something else"}\n', "not an mxtui recording"),
        (_header(version=2) + "\n", "made by a newer mxtui (recording version 2)"),
        (_header(version="1") + "\n", "no valid version"),
        (_header(kind="movie") + "\n", "kind must be one of walk, session"),
        (_header(seed="7") + "\n", "the header's seed is a str"),
        (_header() + "\n" + _event_line() + "\n{oops\n" + _event_line() + "\n", "line 3: not JSON"),
        (_header() + "\n" + '{"t": 0, "event": {"type": "Nope"}}\n', "line 2: event: unknown"),
        (_header() + "\n" + '{"t": -1, "event": {"type": "Nope"}}\n', "line 2: t must be"),
        (_header() + "\n" + '{"t": 0, "event": "hi"}\n', "line 2: the event is not a tagged"),
        (_header() + "\n" + '{"t": 0}\n', "line 2: expected an object with t and event"),
    ],
)
def test_a_bad_file_is_one_line_saying_what_and_where(
    tmp_path: Path, text: str, words: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(RecordingError) as caught:
        load_recording(path)
    message = str(caught.value)
    assert words in message and "\n" not in message


def test_a_missing_file_and_bytes_that_are_not_utf8_are_recording_errors(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match=r"cannot read .*missing\.jsonl: No such file"):
        load_recording(tmp_path / "missing.jsonl")
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(_header().encode() + b"\n" + b'{"t": 0, "event": "\xe9"}\n')
    with pytest.raises(RecordingError, match="line 2: not UTF-8"):
        load_recording(path)


def test_a_last_line_cut_short_is_dropped_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    whole = _header() + "\n" + _event_line(EVENTS[0]) + "\n" + _event_line(EVENTS[1], 0.5)
    path.write_text(whole[:-7])  # the writer was killed in the middle of the last line
    loaded = load_recording(path)
    assert [e.event for e in loaded.entries] == [EVENTS[0]]
    assert "line 3 was cut short" in loaded.note and "1 events kept" in loaded.note


HOSTILE = "\x1b]0;pwned\x07[bold red]x[/] [@click=app.quit]q[/] \u202egnp.exe\x1b[31m"


def test_hostile_strings_in_a_hand_edited_file_come_back_printable(tmp_path: Path) -> None:
    line = encode(TranscriptLine("recv", "250 ok", 0.0))
    line["text"] = HOSTILE + "\n<-  250 forged line"
    reply = encode(Reply(550, "no", None, ("550 no",)))
    reply["lines"] = [HOSTILE]
    reply["text"] = "first\nsecond\x1b[2J"
    path = tmp_path / "hostile.jsonl"
    path.write_text(
        _header(domain="evil\x1b]0;t\x07.example", envelope={"to": ["\x1b[31m@x"]}) + "\n"
        + json.dumps({"t": 0, "event": line}) + "\n"
        + json.dumps({"t": 1, "event": reply}) + "\n"
    )  # fmt: skip
    loaded = load_recording(path)
    text_line, bad_reply = (e.event for e in loaded.entries)
    for shown in (text_line.text, *bad_reply.lines, bad_reply.text, loaded.header["domain"]):
        assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\n" not in text_line.text  # one transcript line cannot forge another
    assert text_line.text.startswith("\\x1b]0;pwned\\x07[bold red]x[/]")
    assert bad_reply.text.split("\n")[0] == "first"  # a reply's text keeps its line breaks
    assert loaded.header["envelope"]["to"] == ["\\x1b[31m@x"]


def test_dumps_writes_a_loaded_recording_back_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    _write(path)
    loaded = load_recording(path)
    again = load_recording(io.BytesIO(dumps(loaded).encode()))
    assert again.entries == loaded.entries
    assert {k: v for k, v in again.header.items() if k != "created"} == {
        k: v for k, v in loaded.header.items() if k != "created"
    }


# --------------------------------------------------------------------------------------------
# Player
# --------------------------------------------------------------------------------------------


def _recording(times: tuple[float, ...]) -> Recording:
    return Recording(
        {"kind": "walk"}, tuple(Entry(t, DataProgress(i, len(times))) for i, t in enumerate(times))
    )


class FakeSleep:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


async def _play(player: Player) -> list[int]:
    return [entry.event.sent async for entry in player]


async def test_the_player_keeps_order_and_sleeps_the_recorded_gaps() -> None:
    sleep = FakeSleep()
    player = Player(_recording((0.0, 0.5, 0.5, 2.0)), sleep=sleep)
    assert await _play(player) == [0, 1, 2, 3]
    assert sleep.slept == [0.5, 1.5]  # no sleep for t=0 and for a zero gap
    assert player.done and player.position == 4


async def test_speed_divides_the_gaps_and_long_idle_gaps_are_capped() -> None:
    sleep = FakeSleep()
    await _play(Player(_recording((1.0, 61.0, 62.0)), speed=2, sleep=sleep))
    assert sleep.slept == [0.5, record.MAX_GAP / 2, 0.5]


@pytest.mark.parametrize("speed", [0, math.inf])
async def test_speed_zero_or_infinite_never_waits(speed: float) -> None:
    sleep = FakeSleep()
    assert await _play(Player(_recording((0.0, 3.0, 9.0)), speed=speed, sleep=sleep)) == [0, 1, 2]
    assert sleep.slept == []


async def test_a_speed_change_applies_from_the_next_gap() -> None:
    sleep = FakeSleep()
    player = Player(_recording((0.0, 1.0, 2.0, 3.0)), sleep=sleep)
    seen = []
    async for entry in player:
        seen.append(entry.event.sent)
        if entry.event.sent == 1:
            player.speed = 4
    assert seen == [0, 1, 2, 3] and sleep.slept == [1.0, 0.25, 0.25]


def test_a_negative_or_nan_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        Player(_recording((0.0,)), speed=-1)
    player = Player(_recording((0.0,)))
    with pytest.raises(ValueError, match="0 or more"):
        player.speed = math.nan


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_pause_holds_entries_and_step_once_releases_exactly_one() -> None:
    player = Player(_recording((0.0, 1.0, 2.0, 3.0)), sleep=FakeSleep())
    player.pause()
    seen: list[int] = []

    async def consume() -> None:
        async for entry in player:
            seen.append(entry.event.sent)

    task = asyncio.create_task(consume())
    await _settle()
    assert seen == [] and player.paused
    player.step_once()
    await _settle()
    assert seen == [0]
    player.step_once()
    player.step_once()
    await _settle()
    assert seen == [0, 1, 2] and player.paused
    player.resume()
    await asyncio.wait_for(task, 5)
    assert seen == [0, 1, 2, 3] and not player.paused


async def test_step_once_while_playing_pauses_after_one_entry() -> None:
    player = Player(_recording((0.0, 1.0, 2.0)), speed=0)
    seen: list[int] = []

    async def consume() -> None:
        async for entry in player:
            seen.append(entry.event.sent)
            if entry.event.sent == 0:
                player.step_once()

    task = asyncio.create_task(consume())
    await _settle()
    assert seen == [0, 1] and player.paused
    player.resume()
    await asyncio.wait_for(task, 5)
    assert seen == [0, 1, 2]


async def test_a_real_recording_replays_its_events_in_order(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    _write(path, times=(0.0, 0.0, 0.0))
    entries = [e async for e in Player(load_recording(path), speed=0)]
    assert tuple(e.event for e in entries) == EVENTS
