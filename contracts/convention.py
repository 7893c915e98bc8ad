"""The convention bilatérale: what one partner lets the hub do with its data.

A convention is a YAML file (see docs/conventions.md) validated into the
frozen `Convention` model below. It states the parties (the producing
partner and the hub operator), when it is in force, which datasets it covers
and what happens to each of their fields before they leave the partner,
how long raw drops are kept, the disclosure rules on everything derived
from them, which consumers may receive which indicators through which
channel, and the parties' signatures over its canonical form
(`contracts.canonical`).

Validity is a pair of calendar dates, both inclusive, read in the
convention's `timezone` (default Europe/Paris; overseas territories name
theirs): a convention valid until 2027-12-31 is in force until midnight
at the end of that day, local time. Dates rather than instants because that
is what a signed agreement states.

Sets are written as lists but compared as sets: schema versions, communes,
channels and indicator lists are kept sorted, and a duplicate is an error,
so that reordering them changes neither meaning nor signature.
"""

from __future__ import annotations

import itertools
import math
import re
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from contracts.disclosure import DisclosureRules
from contracts.errors import InstantError
from contracts.located import Located
from contracts.principals import PrincipalNameError, check_principal_name
from contracts.problems import FieldPath, Problem

ALL = "all"


def _principal(name: str) -> str:
    try:
        return check_principal_name(name)
    except PrincipalNameError as exc:  # pydantic reports ValueErrors, not ours
        raise ValueError(str(exc)) from exc


PrincipalId = Annotated[str, AfterValidator(_principal)]
ConventionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]
DatasetId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")]
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
_INDICATOR_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
IndicatorId = Annotated[str, StringConstraints(pattern=_INDICATOR_ID.pattern)]
CommuneCode = Annotated[str, StringConstraints(pattern=r"^(\d{5}|2[AB]\d{3})$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Cadence(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Channel(StrEnum):
    API = "api"
    KAFKA = "kafka"


class Crs(StrEnum):
    """The coordinate reference systems a partner may give points in."""

    WGS84 = "EPSG:4326"  # longitude, latitude in degrees
    LAMBERT93 = "EPSG:2154"  # RGF93 / Lambert-93: x, y in metres (metropolitan France)


class Policy(StrEnum):
    PSEUDONYMISE = "pseudonymise"
    KEEP = "keep"
    GENERALISE = "generalise"
    DROP = "drop"


def _sorted_set(values: Any, what: str) -> Any:
    """Reject duplicates in a list that means a set; sort it."""
    if not isinstance(values, list | tuple):
        return values
    seen = [str(v) for v in values]
    dupes = sorted({v for v in seen if seen.count(v) > 1})
    if dupes:
        raise ValueError(f"{what} listed twice: {', '.join(dupes)}")
    return sorted(values, key=str)


class FieldPolicy(BaseModel):
    """What happens to one field before it leaves the partner.

    `pseudonymise`: keyed HMAC of the value (identifiers only); `keep`: as is;
    `generalise`: replaced by the lower bound of its band; `drop`: null.
    Written either as the bare policy name or as `{policy: generalise,
    bands: [0, 18, 26]}`.
    """

    model_config = _FROZEN

    policy: Policy
    bands: tuple[int | float, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"policy": value} if isinstance(value, str) else value

    @field_validator("bands", mode="before")
    @classmethod
    def _check_bands(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, list | tuple) or not value:
            raise ValueError("bands must be a non-empty list of numbers")
        bands: list[int | float] = []
        for bound in value:
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise ValueError(f"band bound {bound!r} is not a number")
            if not math.isfinite(bound):
                raise ValueError(f"band bound {bound!r} is not finite")
            # 18 and 18.0 are the same bound; one spelling keeps the signature stable
            bands.append(int(bound) if isinstance(bound, float) and bound.is_integer() else bound)
        for low, high in itertools.pairwise(bands):
            if not low < high:
                raise ValueError(f"bands must be strictly increasing: {low} then {high}")
        return bands

    @model_validator(mode="after")
    def _bands_iff_generalise(self) -> FieldPolicy:
        if self.policy is Policy.GENERALISE and self.bands is None:
            raise ValueError("generalise needs bands, e.g. {policy: generalise, bands: [0, 18]}")
        if self.policy is not Policy.GENERALISE and self.bands is not None:
            raise ValueError(f"bands apply to generalise only, not to {self.policy}")
        return self

    def generalise(self, value: float) -> int | float | None:
        """The lower bound of `value`'s band; None below the first bound."""
        if self.bands is None:
            raise ValueError(f"policy {self.policy} has no bands")
        lower: int | float | None = None
        for bound in self.bands:
            if value < bound:
                break
            lower = bound
        return lower


class DatasetTerms(BaseModel):
    """The terms for one dataset: versions, cadence, territory, field policies."""

    model_config = _FROZEN

    schema_versions: tuple[Annotated[int, Field(ge=1)], ...] = Field(min_length=1)
    cadence: Cadence
    territory: tuple[CommuneCode, ...] = Field(min_length=1)
    fields: dict[FieldName, FieldPolicy] = Field(min_length=1)
    # For a dataset of points (lon, lat): the CRS of the partner's extract. The
    # connector sends WGS84 whatever it reads, so the wire never changes.
    crs: Crs = Crs.WGS84

    @field_validator("schema_versions", mode="before")
    @classmethod
    def _versions(cls, value: Any) -> Any:
        return _sorted_set(value, "schema version")

    @field_validator("territory", mode="before")
    @classmethod
    def _communes(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            for code in value:
                if isinstance(code, int):
                    raise ValueError(f"commune code {code} must be quoted: '{code:05d}'")
        return _sorted_set(value, "commune")

    def policy(self, field: str) -> FieldPolicy | None:
        return self.fields.get(field)


class Parties(BaseModel):
    model_config = _FROZEN

    producer: PrincipalId
    hub_operator: PrincipalId

    @model_validator(mode="after")
    def _distinct(self) -> Parties:
        if self.producer == self.hub_operator:
            raise ValueError("the producer and the hub operator must be different parties")
        return self


class Validity(BaseModel):
    """In force from `valid_from` to `valid_until`, both days included, in `timezone`."""

    model_config = _FROZEN

    valid_from: date
    valid_until: date
    timezone: str = "Europe/Paris"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self

    @property
    def starts_at(self) -> datetime:
        """The first instant in force."""
        return datetime.combine(self.valid_from, time(), ZoneInfo(self.timezone))

    @property
    def ends_at(self) -> datetime:
        """The first instant no longer in force (midnight after `valid_until`)."""
        return datetime.combine(
            self.valid_until + timedelta(days=1), time(), ZoneInfo(self.timezone)
        )


def require_aware(instant: datetime) -> datetime:
    """`instant` if it has a timezone; raise `InstantError` otherwise."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InstantError(instant.isoformat())
    return instant


class ConsumerTerms(BaseModel):
    """What one consumer may receive: indicator ids (or `all`) and channels."""

    model_config = _FROZEN

    indicators: Literal["all"] | tuple[IndicatorId, ...]
    channels: tuple[Channel, ...] = Field(min_length=1)

    @field_validator("indicators", mode="before")
    @classmethod
    def _indicators(cls, value: Any) -> Any:
        # checked here so that a mistake gets one message, not one per union member
        if value == ALL:
            return value
        if not isinstance(value, list | tuple) or not value:
            raise ValueError("expected `all` or a non-empty list of indicator ids")
        for item in value:
            if not isinstance(item, str) or not _INDICATOR_ID.match(item):
                raise ValueError(f"{item!r} is not an indicator id (lower-case, digits, _)")
        return _sorted_set(value, "indicator")

    @field_validator("channels", mode="before")
    @classmethod
    def _channels(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple) or not value:
            raise ValueError("expected a non-empty list of channels: api, kafka")
        for item in value:
            if item not in {c.value for c in Channel}:
                raise ValueError(f"unknown channel {item!r}: use api or kafka")
        return _sorted_set(value, "channel")

    def names(self, indicator_id: str) -> bool:
        return self.indicators == ALL or indicator_id in self.indicators

    def allows(self, channel: Channel) -> bool:
        return channel in self.channels


class Convention(Located):
    """A convention bilatérale, as validated; signatures are checked elsewhere."""

    model_config = _FROZEN

    id: ConventionId
    version: int = Field(ge=1)
    title: Text
    parties: Parties
    validity: Validity
    purpose: Text
    legal_basis: Text
    datasets: dict[DatasetId, DatasetTerms] = Field(min_length=1)
    raw_retention_days: int = Field(ge=1, le=366)
    disclosure: DisclosureRules = DisclosureRules()
    consumers: dict[PrincipalId, ConsumerTerms] = Field(default_factory=dict)
    signatures: dict[PrincipalId, str] = Field(default_factory=dict)

    @property
    def ref(self) -> str:
        """`<id> v<version>`, as messages name it."""
        return f"{self.id} v{self.version}"

    @property
    def producer(self) -> str:
        return self.parties.producer

    @property
    def signers(self) -> tuple[str, str]:
        """The parties whose signatures make the convention binding."""
        return (self.parties.producer, self.parties.hub_operator)

    def problem_at(self, path: FieldPath, code: str, message: str) -> Problem:
        """A problem at `path` of this convention's file."""
        return self.problem(path, code, message, convention_id=self.id)

    def with_signature(self, party: str, signature: str) -> Convention:
        """A copy with `party`'s signature added or replaced."""
        return self.model_copy(update={"signatures": {**self.signatures, party: signature}})

    def provides(self, dataset_id: str) -> bool:
        return dataset_id in self.datasets
