"""Which consumers receive a release on their own Kafka topic (pure).

A consumer is a fan-out candidate when some convention names it with the
`kafka` channel; each release goes to `indicators.<consumer>` only if
consent, resolved at that instant with `contracts.consent`, grants it. A
convention that expires, is revoked or replaced by a version without the
consumer stops the flow at the next release.
"""

from __future__ import annotations

from contracts.consent import Decision, resolve_consent
from contracts.convention import Channel, Convention
from contracts.indicators import IndicatorCatalog
from contracts.lifecycle import Survey


def kafka_consumers(conventions: list[Convention]) -> list[str]:
    """Every consumer some convention names with the `kafka` channel."""
    return sorted(
        {
            name
            for convention in conventions
            for name, terms in convention.consumers.items()
            if terms.allows(Channel.KAFKA)
        }
    )


def fanout_decisions(
    indicator_id: str, survey: Survey, catalog: IndicatorCatalog
) -> dict[str, Decision]:
    """Consumer → the consent decision for this indicator on the Kafka channel.

    Candidates are the consumers named by what stands for each convention
    (in force, or ended: its consumers are told no); a draft names nobody yet."""
    named = [status.convention for status in survey.representatives()]
    return {
        consumer: resolve_consent(consumer, indicator_id, Channel.KAFKA, survey, catalog)
        for consumer in kafka_consumers(named)
    }
