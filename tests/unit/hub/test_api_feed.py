"""What the feed does with each message of `hub.releases` (no broker needed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from contracts.principals import KafkaCredentials
from hub.api.app import create_app
from hub.api.auditing import MemoryAuditSink
from hub.api.feed import ReleaseFeed
from hub.api.governance import Governance
from hub.api.shapes import Shapes
from hub.api.view import ReleaseView
from hub.audit import access_event
from hub.settings import HubSettings
from schemas.catalog import load_catalog
from schemas.codec import encode_message
from tests.unit.hub.api_support import (
    CATALOG,
    CONVENTIONS,
    KEYS,
    PUBLISHED,
    encode,
    release,
    row,
)

SCHEMAS = load_catalog()


def feed() -> ReleaseFeed:
    credentials = KafkaCredentials("127.0.0.1:1", "hub", "not-used")
    return ReleaseFeed(ReleaseView(), credentials, schemas=SCHEMAS)


def test_a_release_on_the_topic_lands_in_the_view_whole() -> None:
    f = feed()
    sent = release(
        rows=[
            row(value=10.0),
            row(code="330630102", value=None, status="secret"),
            row(level="commune", code="33063", value=25.0, numerator=20.0, denominator=80.0),
        ]
    )
    f.apply(sent.key.encode(), encode(sent))
    received = f.view.current("caf_allocataires", "2026-04")
    assert received == sent  # every field survives the wire
    assert received.published_at.tzinfo is not None
    assert f.view.release(sent.release_id) == sent
    assert f.skipped == 0


def test_a_later_release_on_the_topic_replaces_the_period() -> None:
    f = feed()
    a = release(rows=[row(value=10.0), row(code="330630102", value=14.0)])
    b = release(
        rows=[row(value=12.0)],
        replaces=a.release_id,
        published_at=PUBLISHED + timedelta(days=1),
    )
    for r in (a, b):
        f.apply(r.key.encode(), encode(r))
    current = f.view.current("caf_allocataires", "2026-04")
    assert current is not None and current.release_id == b.release_id
    assert [(r.code, r.value) for r in current.rows] == [("330630101", 12.0)]
    assert [(r.release_id, r.replaces) for r in f.view.register()] == [
        (a.release_id, None),
        (b.release_id, a.release_id),
    ]


def test_an_empty_message_is_skipped_and_withdraws_nothing() -> None:
    f = feed()
    sent = release()
    key = sent.key.encode()
    f.apply(key, encode(sent))
    f.apply(key, None)
    assert f.skipped == 1
    assert f.view.current("caf_allocataires", "2026-04") == sent
    assert len(f.view) == 1


def test_messages_that_are_not_releases_are_skipped_and_counted() -> None:
    f = feed()
    f.apply(b"k", b"\xc3\x01garbage")
    f.apply(b"k", b"not even a message")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    event = access_event("observatoire-bordeaux", None, True, "granted", "api", at)
    f.apply(b"k", encode_message(SCHEMAS.protocol("audit_event"), event.record()))
    assert f.skipped == 3
    assert len(f.view) == 0
    assert f.view.register() == []
    # one bad message does not stop the feed: the next release still lands
    f.apply(b"k", encode(release()))
    assert len(f.view) == 1


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
        ReleaseView(),
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
