"""Shared material for the access API tests: demo governance files and rows."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI

from hub.api.view import IndicatorRow

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "deploy" / "demo"
CONVENTIONS = DEMO / "conventions"
CATALOG = DEMO / "indicators.yaml"
KEYS = DEMO / "keys"
TERRITORY = DEMO / "territory"

IN_FORCE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the demo conventions run 2025-2027
EXPIRED = datetime(2028, 1, 2, 12, 0, tzinfo=UTC)
PUBLISHED = datetime(2026, 5, 2, 8, 0, tzinfo=UTC)


def row(
    indicator: str = "caf_allocataires",
    period: str = "2026-04",
    level: str = "iris",
    code: str = "330630101",
    value: float | None = 42.0,
    *,
    numerator: float | None = None,
    denominator: float | None = None,
    status: str = "ok",
    release_id: str = "r1",
) -> IndicatorRow:
    if numerator is None and value is not None and status == "ok":
        numerator = value
    return IndicatorRow(
        indicator=indicator,
        level=level,
        code=code,
        period=period,
        value=value,
        numerator=numerator,
        denominator=denominator,
        status=status,
        release_id=release_id,
        published_at=PUBLISHED,
    )


def record(r: IndicatorRow) -> dict[str, object]:
    """The `indicator_row` record of a row, as the worker would encode it."""
    return {
        "indicator": r.indicator,
        "level": r.level,
        "code": r.code,
        "period": r.period,
        "value": r.value,
        "numerator": r.numerator,
        "denominator": r.denominator,
        "status": r.status,
        "release_id": r.release_id,
        "published_at": r.published_at,
    }


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
