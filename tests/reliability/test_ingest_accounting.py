"""The accounting rule of hub/ingest.py on the pure core, without a broker.

Every malformed message the flood test sends (tests/support/malformed.py)
must, on its own, be quarantined exactly once, open no drop, publish
nothing, label its metrics only with values the hub knows, and leave a drop
state no larger than the message itself (a state is one changelog message:
it must fit wherever the message fitted).
"""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import HealthCheck, given, settings

from hub.context import load_context
from hub.ingest import ACCEPTED, OPEN, DropMessage, ingest_message
from hub.settings import HubSettings
from tests.support import malformed as fuzz
from tests.support.drops import build_drop, caf_record

CTX = load_context(HubSettings())
VALID = build_drop([caf_record(i) for i in range(40)], 20, drop_id="a" * 32)
DECOY = build_drop([caf_record(i) for i in range(40)], 20, drop_id="b" * 32)
KNOWN = sorted({c.id for c in CTX.conventions.all()})
EXCLUDE = ["a" * 32, "b" * 32]
TEMPLATES = [(m.key, m.value) for m in VALID + DECOY]
ANY = fuzz.malformed(CTX.catalog, TEMPLATES, TEMPLATES[len(VALID) :], KNOWN, EXCLUDE)
BIG_HEADER = fuzz.oversized_header(CTX.catalog, EXCLUDE, 1_048_000)
NOW = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def assert_quarantined_alone(bad: fuzz.Malformed) -> None:
    message = DropMessage("drops.caf33", 0, 7, bad.key, bad.value)
    outcome = ingest_message(CTX, message, None, NOW)
    assert len(outcome.quarantine) == 1 and outcome.quarantine[0].reason
    assert outcome.aggregate is None and not outcome.repeat
    assert outcome.state is None or outcome.state.status not in (OPEN, ACCEPTED)
    assert outcome.labels["convention"] in {"", *KNOWN}
    assert outcome.labels["dataset"] in {"", *CTX.catalog.datasets()}
    if outcome.state is not None:
        size = len(json.dumps(outcome.state.to_json(), ensure_ascii=False).encode())
        assert size <= len(bad.value) + 1024


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY)
def test_a_malformed_message_alone_is_quarantined_once_with_bounded_traces(
    bad: fuzz.Malformed,
) -> None:
    assert_quarantined_alone(bad)


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(BIG_HEADER)
def test_an_oversized_header_leaves_a_state_that_fits_a_changelog_message(
    bad: fuzz.Malformed,
) -> None:
    assert_quarantined_alone(bad)
