"""What the feed does with each message of `indicators` (no broker needed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from contracts.principals import KafkaCredentials
from hub.api.app import create_app
from hub.api.auditing import MemoryAuditSink, access_event
from hub.api.feed import IndicatorFeed
from hub.api.governance import Governance
from hub.api.shapes import Shapes
from hub.api.view import IndicatorView
from hub.settings import HubSettings
from schemas.catalog import load_catalog
from schemas.codec import encode_message
from tests.unit.hub.api_support import CATALOG, CONVENTIONS, KEYS, record, row

SCHEMAS = load_catalog()


def feed() -> IndicatorFeed:
    credentials = KafkaCredentials("127.0.0.1:1", "hub", "not-used")
    return IndicatorFeed(IndicatorView(), credentials, schemas=SCHEMAS)


def encoded(value: float | None, status: str = "ok") -> tuple[bytes, bytes]:
    r = row(value=value, status=status)
    return r.key.encode(), encode_message(SCHEMAS.protocol("indicator_row"), record(r))


def test_rows_on_the_topic_land_in_the_view_latest_first() -> None:
    f = feed()
    f.apply(*encoded(10.0))
    f.apply(*encoded(None, "secret"))
    (only,) = f.view.rows("caf_allocataires", "2026-04")
    assert only.status == "secret"
    assert only.published_at is not None and only.published_at.tzinfo is not None


def test_a_tombstone_withdraws_the_cell() -> None:
    f = feed()
    key, value = encoded(10.0)
    f.apply(key, value)
    f.apply(key, None)
    assert len(f.view) == 0


def test_messages_that_are_not_rows_are_skipped_and_counted() -> None:
    f = feed()
    f.apply(b"k", b"\xc3\x01garbage")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    event = access_event("observatoire-bordeaux", None, None, at, granted=True, reason="granted")
    f.apply(b"k", encode_message(SCHEMAS.protocol("audit_event"), event))
    assert f.skipped == 2
    assert len(f.view) == 0


class FakeService:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    async def start(self) -> None:
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def test_services_start_with_the_app_and_stop_in_reverse(tmp_path: object) -> None:
    log: list[str] = []
    app = create_app(
        HubSettings(),
        IndicatorView(),
        audit=MemoryAuditSink(),
        governance=Governance(CONVENTIONS, CATALOG, KEYS),
        shapes=Shapes(),
        services=(FakeService(log, "audit"), FakeService(log, "feed")),
    )

    async def run() -> None:
        async with app.router.lifespan_context(app):
            log.append("serving")

    asyncio.run(run())
    assert log == ["start audit", "start feed", "serving", "stop feed", "stop audit"]
