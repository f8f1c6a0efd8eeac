"""Pure parts of the session: reply parsing, EHLO keywords, the message on the wire, exports."""

from __future__ import annotations

import base64
import json

from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from mxtui.model import Credentials, Reply, Stage
from mxtui.smtp.message import END_OF_DATA, wire_body, wire_message
from mxtui.smtp.replies import parse_extensions, parse_reply
from mxtui.smtp.transcript import Transcript, secret_forms, to_jsonl, to_text


def test_enhanced_code_is_taken_from_the_first_line_and_stripped_from_the_text() -> None:
    reply = parse_reply(550, ("550-5.1.1 <bob@x>: unknown", "550 5.1.1 try another"))
    assert reply.enhanced == "5.1.1"
    assert reply.text == "<bob@x>: unknown\ntry another"
    assert reply.lines == ("550-5.1.1 <bob@x>: unknown", "550 5.1.1 try another")


def test_enhanced_code_of_the_wrong_class_is_not_an_enhanced_code() -> None:
    reply = parse_reply(250, ("250 5.1.1 odd server",))
    assert reply.enhanced is None
    assert reply.text == "5.1.1 odd server"


def test_ehlo_keywords_are_upper_cased_with_parameters_and_old_auth_spelling() -> None:
    reply = Reply(250, lines=("250-mx.test hi", "250-size 1000", "250-AUTH=LOGIN", "250 STARTTLS"))
    assert parse_extensions(reply) == {"SIZE": "1000", "AUTH": "LOGIN", "STARTTLS": ""}


def test_wire_message_dot_stuffs_and_ends_with_the_dot() -> None:
    assert wire_message(b"a\n.b\n..c") == b"a\r\n..b\r\n...c\r\n.\r\n"


def test_text_export_uses_swaks_markers_for_each_direction_and_tls() -> None:
    t = Transcript()
    t.add("info", "Trying", 0.0)
    t.add("recv", "220 hi", 1.0)
    t.add("sent", "EHLO me", 2.0)
    t.add("tls", "TLS started", 3.0)
    t.add("sent", "MAIL FROM:<a@b>", 4.0, encrypted=True)
    t.add("recv", "250 ok", 5.0, encrypted=True, stage=Stage.MAIL)
    assert to_text(t) == (
        "=== Trying\n<-  220 hi\n -> EHLO me\n=== TLS started\n ~> MAIL FROM:<a@b>\n<~  250 ok\n"
    )
    rows = [json.loads(line) for line in to_jsonl(t).splitlines()]
    assert rows[-1] == {
        "dir": "recv", "text": "250 ok", "t_ms": 5.0, "encrypted": True, "stage": "mail"
    }  # fmt: skip


def test_registered_secrets_and_their_base64_forms_are_masked_in_any_line() -> None:
    creds = Credentials("bob", "hunter22")
    t = Transcript()
    t.add_secrets(secret_forms(creds))
    plain = base64.b64encode(b"\0bob\0hunter22").decode()
    t.add("recv", "535 bad password hunter22", 0.0)
    t.add("recv", f"535 you sent {plain}", 0.0)
    t.add("recv", f"334 {base64.b64encode(b'hunter22').decode()}", 0.0)
    text = to_text(t) + to_jsonl(t)
    assert "hunter22" not in text and plain not in text
    assert "aHVudGVyMjI" not in text
    assert text.count("****") == 6


def test_credentials_repr_hides_the_password() -> None:
    assert "hunter22" not in repr(Credentials("bob", "hunter22"))


@given(st.lists(st.sampled_from([b"a", b".", b"\r", b"\n", b"\r\n", b"\xc3\xa9", b" "]),
                max_size=40).map(b"".join))  # fmt: skip
def test_wire_message_fast_path_equals_aiosmtplib_normalising(message: bytes) -> None:
    expected = PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message)) + b".\r\n"
    assert wire_message(message) == expected
    body, lines = wire_body(message)
    assert body + END_OF_DATA == expected and lines == body.count(b"\n")


def test_a_message_with_nothing_to_change_goes_uncopied() -> None:
    """A clean message of many megabytes is sent as the very bytes object it came as."""
    message = b"From: a@example.org\r\n\r\n" + b"a line of text. And another.\r\n" * 1000
    body, lines = wire_body(message)
    assert body is message and lines == 1002


def test_the_session_core_does_not_import_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, mxtui.smtp, mxtui.commands.smtp, mxtui.smtp.tlsinfo; "
        "sys.exit('textual' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
