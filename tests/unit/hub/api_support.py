"""Shared material for the access API tests: demo governance files and releases."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI

from hub.published import Check, IndicatorRelease, Row, Rules, Source
from schemas.catalog import load_catalog
from schemas.codec import encode_message

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "deploy" / "demo"
CONVENTIONS = DEMO / "conventions"
CATALOG = DEMO / "indicators.yaml"
KEYS = DEMO / "keys"
TERRITORY = DEMO / "territory"

IN_FORCE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the demo conventions run 2025-2027
EXPIRED = datetime(2028, 1, 2, 12, 0, tzinfo=UTC)
PUBLISHED = datetime(2026, 5, 2, 8, 0, tzinfo=UTC)
RULES = Rules("suppression", 11, True, 50, True)

# Which partner, dataset and convention feed an indicator, for the sources of a release.
FEEDS = {
    "caf": ("caf33", "caf.allocataires", "caf33-obshub"),
    "defm": ("francetravail33", "france_travail.demandeurs", "francetravail33-obshub"),
}


def row(
    level: str = "iris",
    code: str = "330630101",
    value: float | None = 42.0,
    *,
    numerator: float | None = None,
    denominator: float | None = None,
    status: str = "ok",
) -> Row:
    """One published cell; a count's numerator is its value unless given."""
    if numerator is None and value is not None and status == "ok":
        numerator = value
    return Row(level, code, value, numerator, denominator, status)


def source(indicator: str, period: str, drop_id: str | None = None) -> Source:
    """The drop a demo release of `indicator` is made of."""
    partner, dataset, convention = FEEDS[indicator.split("_", 1)[0]]
    drop = drop_id or f"drop-{partner}-{period}"
    return Source(drop, partner, dataset, period, convention, 1)


def release(
    indicator: str = "caf_allocataires",
    period: str = "2026-04",
    rows: Sequence[Row] = (),
    *,
    release_id: str | None = None,
    replaces: str | None = None,
    sources: Sequence[Source] | None = None,
    published_at: datetime = PUBLISHED,
) -> IndicatorRelease:
    """A release as the worker would publish it; its rows are kept in the order
    given (the worker's are IRIS first, then communes, each by code). Without
    an id, one is derived (hex, as the worker's) from what it says."""
    rows = tuple(rows) or (row(),)
    secret = sum(r.status == "secret" for r in rows)
    if release_id is None:
        said = repr((indicator, period, rows, replaces, published_at)).encode()
        release_id = hashlib.sha256(said).hexdigest()[:20]
    return IndicatorRelease(
        release_id=release_id,
        indicator=indicator,
        period=period,
        levels=("iris", "commune"),
        replaces=replaces,
        rules=RULES,
        check=Check(True, secret, 0, 14.0 if secret else None),
        sources=tuple(sources) if sources is not None else (source(indicator, period),),
        created_at=published_at,
        published_at=published_at,
        rows=rows,
    )


def encode(rel: IndicatorRelease) -> bytes:
    """The `indicator_release` message of a release, as the worker would encode it."""
    return encode_message(load_catalog().protocol("indicator_release"), rel.to_record())


class AppClient:
    """Requests to an ASGI app in memory, through httpx's ASGI transport.

    FastAPI's TestClient would do, but under Starlette 1.x it warns unless
    the `httpx2` package is installed; httpx's own transport needs nothing more.
    The app's lifespan is not run: these apps have no services.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as c:
                return await c.get(url, params=params, headers=headers)

        return asyncio.run(call())
