"""The unmodified official SDK (26.2.4) against the local server's label validation: a
malformed label is refused as on Kili (an exception from the call whose message holds
``jsonResponseMalformed``) with nothing written; a valid label of every job type goes
through and parses; an interface the platform would refuse is refused; export_type picks
the latest or every label."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from official_support import official_output, official_python

__all__ = ["official_python"]  # the fixture, imported for pytest

CORPUS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "data" / "label_corpus.json").read_text()
)
out = official_output("label_validation.py")
# the official SDK's own check refuses this one before sending (a text answer names a file)
REFUSED_BY_THE_SDK = {"a job answer that is not an object": "names a file to upload"}


def test_every_malformed_label_is_refused_with_json_response_malformed(out: Any) -> None:
    refused = out["append_labels"]
    assert set(refused) == {case["case"] for case in CORPUS["malformed"]}
    for case in CORPUS["malformed"]:
        got = refused[case["case"]]
        assert got is not None, f"{case['case']}: accepted"
        if case["case"] in REFUSED_BY_THE_SDK:
            assert REFUSED_BY_THE_SDK[case["case"]] in got["message"], got
            continue
        assert "[jsonResponseMalformed] labelsData[1].jsonResponse" in got["message"], got
        if case["name"] is not None:
            assert repr(case["name"]) in got["message"], got


def test_the_other_label_writes_are_refused_too(out: Any) -> None:
    for call in ("create_predictions", "create_honeypot", "append_to_labels"):
        assert "jsonResponseMalformed" in out[call]["message"], (call, out[call])
        assert "no category 'PINK'" in out[call]["message"]


def test_nothing_of_a_refused_call_is_written(out: Any) -> None:
    assert out["count_after_refusals"] == 0


def test_a_valid_label_of_every_job_type_is_accepted_and_parses(out: Any) -> None:
    assert out["appended"] == 2
    assert out["parsed"] == {
        "SINGLE": "YES",
        "MULTI": ["RED", "BLUE"],
        "TRANSCRIPTION": "hello world",
        "BBOX": "CAR",
        "NER": "Ada",
    }


def test_an_interface_the_platform_would_refuse_is_refused(out: Any) -> None:
    for call in ("create_project_refused", "update_refused"):
        message = out[call]["message"]
        assert "data.jsonInterface: The json interface has 1 problem(s)" in message, message
        assert "jobs.J.tools: an OBJECT_DETECTION job needs at least one tool" in message


def test_export_type_latest_or_every_label(out: Any) -> None:
    # v0: the corpus's label then an empty one; v1: an empty one (True: an empty answer)
    assert out["exported"]["latest"] == {"v0": True, "v1": True}
    assert out["exported"]["normal"] == {"v0": [False, True], "v1": [True]}
