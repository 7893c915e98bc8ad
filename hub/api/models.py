"""The shapes of the API's JSON answers, for validation and the OpenAPI document."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    GEOJSON = "geojson"


class LevelName(StrEnum):
    IRIS = "iris"
    COMMUNE = "commune"


class Row(BaseModel):
    level: LevelName
    code: str = Field(description="IRIS or commune code")
    period: str
    value: float | None = Field(description="null when secret")
    numerator: float | None = Field(description="null when secret")
    denominator: float | None = Field(description="null when secret, or for a count")
    status: Literal["ok", "secret"]


class IndicatorTable(BaseModel):
    indicator: str
    period: str
    unit: str
    rows: list[Row]


class IndicatorSummary(BaseModel):
    id: str
    title: str
    unit: str
    inputs: list[str] = Field(description="the datasets it is computed from")
    levels: list[LevelName]
    periods: list[str] = Field(description="periods available, oldest first")


class IndicatorList(BaseModel):
    indicators: list[IndicatorSummary]


class ErrorDetail(BaseModel):
    reason: str = Field(
        description=(
            "401: missing_token, invalid_token. 403: a consent reason "
            "(convention_not_applicable, consumer_not_named, indicator_not_named, "
            "channel_not_allowed, no_convention) or no_consent (the catalog is empty). "
            "404: unknown_indicator, unknown_period, unknown_level, unknown_code. "
            "503: governance_unavailable, token_store_unavailable, audit_unavailable."
        )
    )
    message: str


class ErrorBody(BaseModel):
    detail: ErrorDetail


class Health(BaseModel):
    status: Literal["ok", "starting", "failed"]
    rows: int
    detail: str | None = None
