"""The model package: every name importable from `mxtui.model`, loaded lazily, one JSON form."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
import subprocess
import sys

import mxtui.model as model
from mxtui.model import (
    CodeMeaning,
    MXPlan,
    PlanStatus,
    Reply,
    Stage,
    StepResult,
    TranscriptLine,
    to_json,
)


def test_every_public_type_of_a_topic_module_is_exported_by_the_package():
    for topic in model.TOPICS:
        module = importlib.import_module(f"mxtui.model.{topic}")
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if isinstance(obj, type) and (
                dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum)
            ):
                assert getattr(model, name) is obj, name
                assert name in model.__all__, name


def test_every_exported_name_resolves():
    for name in model.__all__:
        assert getattr(model, name) is not None, name


def test_the_smtp_types_load_without_the_walk_and_policy_modules():
    code = (
        "import sys\nfrom mxtui.model import Stage, StepResult\n"
        "print(sorted(m for m in sys.modules if m.startswith('mxtui.model.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = done.stdout.strip()
    assert "mxtui.model.smtp" in loaded
    assert "mxtui.model.walk" not in loaded and "mxtui.model.policy" not in loaded


def test_json_form_renames_rounds_and_drops_what_the_contract_leaves_out():
    step = StepResult(Stage.STARTTLS, ("STARTTLS",), Reply(220, "go", "2.0.0", ("220 2.0.0 go",)),
                      1.23456, replies=(Reply(220),))  # fmt: skip
    assert step.to_json() == {
        "stage": "tls", "command": "starttls", "sent": ["STARTTLS"],
        "reply": {"code": 220, "enhanced": "2.0.0", "lines": ["220 2.0.0 go"]},
        "ms": 1.235, "outcome": None, "failure": None, "error": "", "tls": None,
        "uses": [], "recipient": "", "recipients": [], "sender": "",
    }  # fmt: skip
    meaning = CodeMeaning(550, 5, "permanent", 5, "mail system")
    assert list(meaning.to_json())[:2] == ["code", "class"]
    assert TranscriptLine("recv", "x", 1.00049).to_json()["t_ms"] == 1.0


def test_json_form_keeps_the_key_order_of_the_mx_contract():
    plan = MXPlan("example.com", PlanStatus.NULL_MX, elapsed_ms=3.14159)
    data = to_json(plan)
    assert list(data) == [
        "domain", "display_domain", "status", "ttl", "groups", "problems", "queries",
        "elapsed_ms", "nameservers", "usable",
    ]  # fmt: skip
    assert data["display_domain"] == "example.com" and data["elapsed_ms"] == 3.1
    assert data["status"] == "null-mx" and data["usable"] is False
    json.dumps(data)
