"""The shapes of the API's JSON answers, for validation and the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class Format(StrEnum):
    JSON = "json"
    CSV = "csv"
    GEOJSON = "geojson"


class Row(BaseModel):
    level: str = Field(
        description="iris, commune, qpv, commune_hors_qpv, epci, or a zone level of the territory"
    )
    code: str = Field(
        description="the area's code: IRIS, commune (also for commune_hors_qpv), "
        "QPV code_qp, EPCI SIREN, zone code"
    )
    period: str
    value: float | None = Field(description="null when secret")
    numerator: float | None = Field(description="null when secret")
    denominator: float | None = Field(description="null when secret, or for a count")
    status: Literal["ok", "secret"]


class Source(BaseModel):
    """A drop a release is made of: who sent it, what, for when, under which convention."""

    partner: str
    dataset: str
    period: str
    convention: str
    convention_version: int


class IndicatorTable(BaseModel):
    indicator: str
    period: str
    unit: str
    release_id: str = Field(description="the release every row of this answer comes from")
    published_at: datetime
    sources: list[Source]
    rows: list[Row]


class Rules(BaseModel):
    method: Literal["suppression"]
    k: int = Field(description="minimum published count")
    complement: bool = Field(description="denominator - numerator tested too")
    min_denominator: int
    secondary_suppression: bool


class Check(BaseModel):
    """The disclosure check the release passed (linear programming over what it publishes)."""

    passed: bool
    secret_primary: int
    secret_secondary: int
    narrowest_interval: float | None = Field(
        description="the narrowest feasible interval of a secret cell; null if none is bounded"
    )


class ReleaseEntry(BaseModel):
    id: str
    indicator: str
    period: str
    levels: list[str]
    published_at: datetime
    replaces: str | None = Field(description="the release of this indicator and period it revises")
    rules: Rules
    audit: Check
    sources: list[Source]


class ReleaseList(BaseModel):
    releases: list[ReleaseEntry] = Field(description="oldest first")


class ReleaseDetail(ReleaseEntry):
    rows: list[Row] = Field(description="what the release published")


class IndicatorSummary(BaseModel):
    id: str
    title: str
    unit: str
    inputs: list[str] = Field(description="the datasets it is computed from")
    levels: list[str]
    periods: list[str] = Field(description="periods available, oldest first")


class IndicatorList(BaseModel):
    indicators: list[IndicatorSummary]


class ErrorDetail(BaseModel):
    reason: str = Field(
        description=(
            "401: missing_token, invalid_token. 403: a consent reason "
            "(convention_not_applicable, consumer_not_named, indicator_not_named, "
            "channel_not_allowed, no_convention) or no_consent (the catalog is empty). "
            "404: unknown_indicator, unknown_period, unknown_level, unknown_code, "
            "unknown_release. "
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
