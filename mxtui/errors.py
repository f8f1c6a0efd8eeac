"""The exception root and the exit statuses every command shares.

Bad input is one line on stderr and exit status 2, never a traceback: every error mxtui raises
on purpose derives from `MxtuiError`, and the input errors from `UsageError`, which `mxtui.cli`
turns into ``mxtui COMMAND: message`` and exit 2 for every command in one place.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 2
"""Bad input: an option, a file, a domain or a setting that cannot be used."""
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class MxtuiError(Exception):
    """The root of the errors mxtui raises on purpose; the message is one line for a person."""


class UsageError(MxtuiError, ValueError):
    """Input that cannot be used (an argument, a file, a setting); exit status 2."""
