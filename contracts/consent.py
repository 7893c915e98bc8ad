"""Consent: may this consumer receive this indicator, now, through this channel?

`resolve_consent` is a pure function of its arguments (no clock, no file).
An indicator reads one or more datasets; for each, every partner with a
convention providing it contributes. Of a partner's conventions providing
the dataset, the one in force is the applicable one with the highest
version (a renewal supersedes the convention it renews). Consent is granted
only when every contributing partner has an applicable convention and each
of those names the consumer, with the indicator (or `all`), and the channel.

Checks run in this order and the first that fails is the decision's reason:

| reason | when |
| --- | --- |
| `unknown_indicator` | the catalog has no such indicator |
| `no_convention` | a dataset it reads is provided by no convention |
| `convention_not_applicable` | a contributing partner has no convention in force |
|  | (unsigned, tampered, not yet valid, expired) |
| `consumer_not_named` | a contributing convention does not name the consumer |
| `indicator_not_named` | it names the consumer, but not for this indicator |
| `channel_not_allowed` | it names the indicator, but not through this channel |
| `granted` | every contributing convention consents |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts.convention import Channel, Convention, require_aware
from contracts.indicators import IndicatorCatalog
from contracts.keys import TrustStore
from contracts.status import assess


class ConsentReason(StrEnum):
    GRANTED = "granted"
    UNKNOWN_INDICATOR = "unknown_indicator"
    NO_CONVENTION = "no_convention"
    CONVENTION_NOT_APPLICABLE = "convention_not_applicable"
    CONSUMER_NOT_NAMED = "consumer_not_named"
    INDICATOR_NOT_NAMED = "indicator_not_named"
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"


@dataclass(frozen=True)
class Decision:
    """The answer, its reason code and a one-line message for the audit trail."""

    granted: bool
    reason: ConsentReason
    message: str
    conventions: tuple[str, ...] = ()  # `<id> v<version>` of the contributing conventions

    @classmethod
    def deny(cls, reason: ConsentReason, message: str) -> Decision:
        return cls(False, reason, message)


def contributing_conventions(
    dataset_ids: Sequence[str],
    instant: datetime,
    conventions: Sequence[Convention],
    keys: TrustStore,
) -> list[Convention] | Decision:
    """The convention in force for each partner providing one of the datasets,
    or the denial saying why there is none."""
    chosen: dict[str, Convention] = {}
    for dataset_id in dataset_ids:
        if not any(c.provides(dataset_id) for c in conventions):
            return Decision.deny(
                ConsentReason.NO_CONVENTION, f"no convention provides dataset {dataset_id}"
            )
    for dataset_id in dataset_ids:
        providers = [c for c in conventions if c.provides(dataset_id)]
        for producer in sorted({c.producer for c in providers}):
            own = sorted(
                (c for c in providers if c.producer == producer),
                key=lambda c: (c.version, c.id),
                reverse=True,
            )
            assessed = [(c, assess(c, keys, instant)) for c in own]
            in_force = [c for c, problems in assessed if not problems]
            if not in_force:
                latest, problems = assessed[0]
                return Decision.deny(
                    ConsentReason.CONVENTION_NOT_APPLICABLE,
                    f"convention {latest.ref} of {producer} is not applicable: "
                    f"{problems[0].field}: {problems[0].message}",
                )
            chosen.setdefault(in_force[0].ref, in_force[0])
    return [chosen[ref] for ref in sorted(chosen)]


def resolve_consent(
    consumer: str,
    indicator_id: str,
    channel: Channel | str,
    instant: datetime,
    conventions: Sequence[Convention],
    catalog: IndicatorCatalog,
    keys: TrustStore,
) -> Decision:
    """Whether `consumer` may receive `indicator_id` through `channel` at
    `instant` (timezone-aware), under `conventions` verified with `keys`."""
    require_aware(instant)
    indicator = catalog.get(indicator_id)
    if indicator is None:
        return Decision.deny(
            ConsentReason.UNKNOWN_INDICATOR, f"no indicator {indicator_id} in the catalog"
        )
    try:
        wanted = Channel(channel)
    except ValueError:
        return Decision.deny(ConsentReason.CHANNEL_NOT_ALLOWED, f"unknown channel {channel!r}")
    contributing = contributing_conventions(indicator.datasets, instant, conventions, keys)
    if isinstance(contributing, Decision):
        return contributing
    for convention in contributing:
        terms = convention.consumers.get(consumer)
        if terms is None:
            return Decision.deny(
                ConsentReason.CONSUMER_NOT_NAMED,
                f"convention {convention.ref} does not name consumer {consumer}",
            )
        if not terms.names(indicator_id):
            return Decision.deny(
                ConsentReason.INDICATOR_NOT_NAMED,
                f"convention {convention.ref} does not grant {indicator_id} to {consumer}",
            )
        if not terms.allows(wanted):
            return Decision.deny(
                ConsentReason.CHANNEL_NOT_ALLOWED,
                f"convention {convention.ref} does not allow {consumer} the {wanted} channel",
            )
    refs = tuple(c.ref for c in contributing)
    return Decision(
        True,
        ConsentReason.GRANTED,
        f"granted {indicator_id} to {consumer} via {wanted} by {', '.join(refs)}",
        refs,
    )
