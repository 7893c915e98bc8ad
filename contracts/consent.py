"""Consent: may this consumer receive this indicator, now, through this channel?

`resolve_consent` is a pure function of its arguments (no clock, no file):
it reads a `contracts.lifecycle.Survey`, the standing of every convention
at one instant. An indicator reads one or more datasets; for each, every
convention that provides it contributes (counts add up over conventions
with disjoint territories), through the version that stands for its id: the
one in force (a renewal supersedes the version it renews), else the last
one that ended. Drafts (not signed by both, not yet valid, tampered, or
overlapping another convention) are not applied and change nothing.
Consent is granted only when every contributing convention is in force and
names the consumer, with the indicator (or `all`), and the channel.

Checks run in this order and the first that fails is the decision's reason:

| reason | when |
| --- | --- |
| `unknown_indicator` | the catalog has no such indicator |
| `no_convention` | a dataset it reads is provided by no convention (drafts do not count) |
| `convention_revoked` | a contributing convention was revoked (or a party's key withdrawn) |
| `convention_expired` | a contributing convention expired and no renewal is in force |
| `consumer_not_named` | a contributing convention does not name the consumer |
| `indicator_not_named` | it names the consumer, but not for this indicator |
| `channel_not_allowed` | it names the indicator, but not through this channel |
| `granted` | every contributing convention consents |

A decision has two messages. `message` may be shown to the consumer (the API
answers with it): it is built only from ids (consumer, indicator, dataset,
convention and version), the channel and dates, never from a convention's
standing message, which can name the hub's files (a key store) or quote a
revocation's reason. `detail` says all the hub knows, for its own logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from contracts.convention import Channel
from contracts.indicators import IndicatorCatalog
from contracts.lifecycle import Standing, Status, Survey


class ConsentReason(StrEnum):
    GRANTED = "granted"
    UNKNOWN_INDICATOR = "unknown_indicator"
    NO_CONVENTION = "no_convention"
    CONVENTION_REVOKED = "convention_revoked"
    CONVENTION_EXPIRED = "convention_expired"
    CONSUMER_NOT_NAMED = "consumer_not_named"
    INDICATOR_NOT_NAMED = "indicator_not_named"
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"


@dataclass(frozen=True)
class Decision:
    """The answer, its reason code, a one-line message the consumer may be
    shown, and the one-line `detail` for the hub's logs (the message unless
    the hub knows more; see the module docstring)."""

    granted: bool
    reason: ConsentReason
    message: str
    conventions: tuple[str, ...] = ()  # `<id> v<version>` of the contributing conventions
    detail: str = ""

    def __post_init__(self) -> None:
        if not self.detail:
            object.__setattr__(self, "detail", self.message)

    @classmethod
    def deny(cls, reason: ConsentReason, message: str, detail: str = "") -> Decision:
        return cls(False, reason, message, detail=detail)


def _ended(status: Status) -> str:
    """What a consumer may be told of an ended convention: which, how, when."""
    convention = status.convention
    if status.standing is Standing.EXPIRED:
        until = convention.validity.valid_until.isoformat()
        return f"convention {convention.ref} expired: was in force until {until}"
    how = {
        "key_withdrawn": " (a party's key was withdrawn)",
        "revoked_by_operator": " by the hub operator",
    }.get(status.cause, "")
    return f"convention {convention.ref} was revoked{how}"


def contributing_conventions(dataset_ids: Sequence[str], survey: Survey) -> list[Status] | Decision:
    """What stands for each convention providing one of the datasets, or the
    denial saying why the datasets cannot be served."""
    chosen: dict[str, Status] = {}
    for dataset_id in dataset_ids:
        providers = survey.providers(dataset_id)
        if not providers:
            drafts = [s.ref for s in survey.drafts() if s.convention.provides(dataset_id)]
            note = f" (only drafts: {', '.join(drafts)})" if drafts else ""
            return Decision.deny(
                ConsentReason.NO_CONVENTION, f"no convention provides dataset {dataset_id}{note}"
            )
        for status in providers:
            chosen.setdefault(status.ref, status)
    for ref in sorted(chosen):
        status = chosen[ref]
        if status.standing is Standing.REVOKED:
            return Decision.deny(ConsentReason.CONVENTION_REVOKED, _ended(status), status.message)
        if status.standing is Standing.EXPIRED:
            return Decision.deny(ConsentReason.CONVENTION_EXPIRED, _ended(status), status.message)
    return [chosen[ref] for ref in sorted(chosen)]


def resolve_consent(
    consumer: str,
    indicator_id: str,
    channel: Channel | str,
    survey: Survey,
    catalog: IndicatorCatalog,
) -> Decision:
    """Whether `consumer` may receive `indicator_id` through `channel` at the
    survey's instant, under the conventions as the survey finds them."""
    indicator = catalog.get(indicator_id)
    if indicator is None:
        return Decision.deny(
            ConsentReason.UNKNOWN_INDICATOR, f"no indicator {indicator_id} in the catalog"
        )
    try:
        wanted = Channel(channel)
    except ValueError:
        return Decision.deny(ConsentReason.CHANNEL_NOT_ALLOWED, f"unknown channel {channel!r}")
    contributing = contributing_conventions(indicator.datasets, survey)
    if isinstance(contributing, Decision):
        return contributing
    for status in contributing:
        convention = status.convention
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
    refs = tuple(s.ref for s in contributing)
    return Decision(
        True,
        ConsentReason.GRANTED,
        f"granted {indicator_id} to {consumer} via {wanted} by {', '.join(refs)}",
        refs,
    )
