"""Record and replay: a session or a walk saved as JSON Lines, and played back at its own pace.

For demos where the network cannot be trusted: record the walk once (``mxtui walk … --record``,
or ``w`` in the app), then replay it anywhere (``mxtui replay FILE``) without DNS or SMTP.

Three parts: `codec` turns model objects into JSON data and back (generic over the model's
dataclasses, checked on the way in), `file` writes and reads the file (header, one line per
event, streamed when read), `player` releases entries at the recorded pace.
"""

from mxtui.record.codec import SECRET_MASK, RecordingError, clean, decode, encode, registry
from mxtui.record.file import (
    FORMAT,
    KINDS,
    MAX_LINE_BYTES,
    VERSION,
    Entry,
    Kind,
    Recorder,
    Recording,
    RecordingReader,
    dumps,
    envelope_from_header,
    envelope_header,
    load_recording,
    open_recording,
)
from mxtui.record.player import MAX_GAP, Player

__all__ = [
    "FORMAT",
    "KINDS",
    "MAX_GAP",
    "MAX_LINE_BYTES",
    "SECRET_MASK",
    "VERSION",
    "Entry",
    "Kind",
    "Player",
    "Recorder",
    "Recording",
    "RecordingError",
    "RecordingReader",
    "clean",
    "decode",
    "dumps",
    "encode",
    "envelope_from_header",
    "envelope_header",
    "load_recording",
    "open_recording",
    "registry",
]
