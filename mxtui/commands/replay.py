"""`mxtui replay FILE`: play back a recorded walk or session, in the app or as text.

For demos where the network cannot be trusted: nothing is resolved or dialled, the recording's
events come back at their recorded pace (or faster). `--print` writes them as text, so a replay
can also be checked or shown without a terminal UI.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from mxtui.errors import EXIT_OK
from mxtui.model import (
    AttemptEnded,
    AttemptStarted,
    HostResolved,
    MXAnswered,
    MXPlan,
    PlanResolved,
    RecipientState,
    StepDone,
    TranscriptLine,
    WalkEnded,
    WalkResult,
    WalkStarted,
)
from mxtui.netargs import speed_type
from mxtui.record import Player, RecordingReader, open_recording
from mxtui.smtp.transcript import marker
from mxtui.text import clock_offset

DESCRIPTION = (
    "Replay a recording made with `mxtui walk ... --record FILE` or saved from the app (w): "
    "the MX tree, the transcript, each decision and the outcome come back at the recorded pace, "
    "or faster, with no DNS and no SMTP. Opens the app; --print writes the replay as text."
)
EPILOG = """\
exit status:
  0  replayed
  2  bad input (a file that cannot be read or is not a recording, a negative --speed)

Recorded pauses longer than 5 seconds are shortened to 5 seconds before --speed applies.

examples:
  mxtui walk example.com --lab --from a@example.org --to alice@example.com --record demo.jsonl
  mxtui replay demo.jsonl                  open the app, paused: g plays at the recorded pace
  mxtui replay demo.jsonl --speed 4        four times faster
  mxtui replay demo.jsonl --print --speed 0
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a recording (JSON Lines)")
    parser.add_argument(
        "--speed", type=speed_type, default=1.0, metavar="X",
        help="play X times faster than recorded (default 1; 0 = no waiting)",
    )  # fmt: skip
    parser.add_argument(
        "--play", action="store_true",
        help="start playing at once (the app opens paused: g plays, n plays one step)",
    )  # fmt: skip
    parser.add_argument(
        "--print", dest="print_text", action="store_true",
        help="write the replay to stdout as text instead of opening the app",
    )  # fmt: skip


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _first(text: str) -> str:
    """The first sentence of a decision's explanation: the one-line reason."""
    text = _one_line(text)
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def _plan_lines(plan: MXPlan) -> list[str]:
    lines = [f"MX plan for {plan.display_domain or plan.domain}: {plan.status}"]
    for host in plan.hosts:
        addresses = ", ".join(a.address for a in host.addresses) or "no address"
        lines.append(f"  {host.preference:>5} {host.name}: {addresses}")
    lines += [f"  ! {_one_line(p.message)}" for p in plan.problems]
    return lines


def _result_lines(result: WalkResult) -> list[str]:
    lines = [f"outcome: {result.outcome}"]
    if result.retry is not None and result.next_retry_s is not None:
        lines.append(
            f"retry: next attempt at {clock_offset(result.next_retry_s)}, give up at "
            f"{clock_offset(result.retry.give_up_s)} ({result.retry.formula})"
        )
    if result.held:
        lines.append("held before the end-of-data dot (the recording was made without --send)")
    if result.ndr:
        lines += ["", "NDR the sender would get:", result.ndr.rstrip("\n")]
    return lines


def event_lines(event: object) -> list[str]:
    """The text `--print` writes for one recorded event (nothing for progress-only events)."""
    match event:
        case TranscriptLine():
            return [f"{marker(event)}{event.text}"]
        case PlanResolved():
            return _plan_lines(event.plan)
        case WalkStarted():
            head = f"walk {event.domain} as {event.profile} (seed {event.seed})"
            if event.attempt:
                head += f", attempt {event.attempt + 1} at {clock_offset(event.clock_s)}"
            return [head]
        case AttemptStarted():
            t = event.target
            return [f"--- {event.index + 1}. {t.host} {t.address} (preference {t.preference})"]
        case StepDone(decision=decision) if decision is not None:
            return [f"decision at {event.stage}: {decision.action} ({_first(decision.why)})"]
        case AttemptEnded():
            return [f"--- {event.record.target.address}: ended at {event.record.stage}"
                    f" -> {event.record.action}"]  # fmt: skip
        case RecipientState():
            why = event.result.reply_text()
            return [f"recipient {event.recipient}: {event.result.state}"
                    + (f" ({_one_line(why)})" if why else "")]  # fmt: skip
        case WalkEnded():
            return _result_lines(event.result)
        case MXAnswered() | HostResolved():
            return []  # the final plan is printed whole
    return []


async def _sleep(seconds: float) -> None:
    """The player's wait (a module attribute, so tests replace it and need no real time)."""
    await asyncio.sleep(seconds)


async def _print(reader: RecordingReader, speed: float, write: Callable[[str], None]) -> None:
    header = reader.header
    write(
        f"replay of a recorded {header['kind']}: {header.get('domain') or '(no domain)'}"
        + (f", scenario {header['scenario']}" if header.get("scenario") else "")
        + (f", recorded {header['created']}" if header.get("created") else "")
    )
    async for entry in Player(reader, speed=speed, sleep=_sleep):  # read as it is played
        for line in event_lines(entry.event):
            write(line)


def run(args: argparse.Namespace) -> int:
    reader = open_recording(args.file)  # the header is checked now; the events as they play
    if args.print_text:

        def write(line: str) -> None:
            print(line, flush=True)

        asyncio.run(_print(reader, args.speed, write))
        if reader.note:
            print(f"mxtui replay: note: {reader.note}", file=sys.stderr)
        return EXIT_OK
    from mxtui.ui.launch import open_app  # textual is imported here, and only here

    status = open_app(
        args.settings,
        args.settings_file,
        replay=reader,
        replay_speed=args.speed,
        replay_paused=not args.play,
    )
    if reader.note:
        print(f"mxtui replay: note: {reader.note}", file=sys.stderr)
    return status
