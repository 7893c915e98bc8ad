"""The hub's Prometheus metrics (docs/observability.md), in one registry.

Labels are bounded: partner, convention, dataset, indicator, consumer,
outcome, reason, kind, topic. Never a person, a pseudonym or an IRIS code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# The interval the drop-late alert expects between two drops of a dataset, by
# cadence: the longest month, quarter and year, so a drop on the last day of
# a period is never late.
CADENCE_SECONDS: dict[str, float] = {
    "monthly": 31 * 86400,
    "quarterly": 92 * 86400,
    "yearly": 366 * 86400,
}


class HubMetrics:
    """Every metric the worker and the access API export."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.drop_messages = Counter(
            "obshub_drop_messages_total",
            "Messages read from partner drop topics",
            ["partner", "convention", "dataset", "kind"],
            registry=r,
        )
        self.drops = Counter(
            "obshub_drops_total",
            "Drops closed, by outcome",
            ["partner", "convention", "dataset", "outcome"],
            registry=r,
        )
        self.drop_rejections = Counter(
            "obshub_drop_rejections_total",
            "Drops rejected, by reason",
            ["partner", "convention", "reason"],
            registry=r,
        )
        self.records = Counter(
            "obshub_records_total",
            "Records of drops, aggregated or rejected",
            ["partner", "convention", "dataset", "outcome"],
            registry=r,
        )
        self.record_rejections = Counter(
            "obshub_record_rejections_total",
            "Records rejected by the hub, by reason",
            ["partner", "dataset", "reason"],
            registry=r,
        )
        self.quarantined = Counter(
            "obshub_quarantine_messages_total",
            "Messages quarantined, by reason",
            ["partner", "reason"],
            registry=r,
        )
        self.cells = Counter(
            "obshub_cells_total",
            "Indicator cells released, by status",
            ["indicator", "status"],
            registry=r,
        )
        self.releases = Counter(
            "obshub_releases_total",
            "Indicator releases, by audit outcome",
            ["indicator", "outcome"],
            registry=r,
        )
        self.convention_valid_until = Gauge(
            "obshub_convention_valid_until_seconds",
            "End of a convention's validity (epoch s)",
            ["convention"],
            registry=r,
        )
        self.convention_applicable = Gauge(
            "obshub_convention_applicable",
            "1 if the convention is signed and in force",
            ["convention"],
            registry=r,
        )
        self.convention_last_drop = Gauge(
            "obshub_convention_last_drop_timestamp_seconds",
            "Time of the last accepted drop",
            ["convention", "dataset"],
            registry=r,
        )
        self.access_requests = Counter(
            "obshub_access_requests_total",
            "Access decisions",
            ["consumer", "indicator", "decision"],
            registry=r,
        )
        self.drop_to_indicator = Histogram(
            "obshub_drop_to_indicator_seconds",
            "From a drop's trailer to its indicators",
            ["dataset"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
            registry=r,
        )
        # What the alert rules and dashboards also need.
        self.consumer_lag = Gauge(
            "obshub_consumer_lag_messages",
            "Messages of a partner topic not yet committed by the hub's group",
            ["topic"],
            registry=r,
        )
        self.convention_valid_from = Gauge(
            "obshub_convention_valid_from_seconds",
            "Start of a convention's validity (epoch s)",
            ["convention"],
            registry=r,
        )
        self.convention_cadence = Gauge(
            "obshub_convention_cadence_seconds",
            "Expected interval between drops of a dataset, from its cadence",
            ["convention", "dataset"],
            registry=r,
        )
        self.indicator_source = Gauge(
            "obshub_indicator_source_info",
            "1 for each convention and dataset an indicator is computed from",
            ["indicator", "convention", "dataset"],
            registry=r,
        )
        self.convention_standing = Gauge(
            "obshub_convention_standing",
            "1 for where each convention stands now (in_force, superseded, expired, "
            "revoked, draft) and what made it so (unsigned, tampered, not_yet_valid, "
            "territory_overlap, key_withdrawn, revoked_by_operator, expired, renewed)",
            ["convention", "standing", "cause"],
            registry=r,
        )
        self._standing_labels: dict[str, tuple[str, str]] = {}
        self.receipts = Counter(
            "obshub_receipts_total",
            "Receipts sent to partners, by outcome",
            ["partner", "outcome"],
            registry=r,
        )
        self.indicator_stale = Gauge(
            "obshub_indicator_stale",
            "1 while an indicator's newest period cannot be released, with the reason",
            ["indicator", "reason"],
            registry=r,
        )
        self.worker_up = Gauge(
            "obshub_worker_up",
            "1 while the worker's stream processing runs, 0 once it stopped",
            registry=r,
        )

    def publish_convention(
        self,
        convention: str,
        *,
        valid_from: float,
        valid_until: float,
        applicable: bool,
        cadences: Mapping[str, str],
        standing: str = "in_force",
        cause: str = "",
    ) -> None:
        """A convention's gauges: validity (epoch s), status and standing
        (`contracts.lifecycle`), each dataset's cadence (`monthly`, `quarterly`,
        `yearly`, as in the convention)."""
        self.convention_valid_from.labels(convention).set(valid_from)
        self.convention_valid_until.labels(convention).set(valid_until)
        self.convention_applicable.labels(convention).set(1 if applicable else 0)
        previous = self._standing_labels.get(convention)
        if previous is not None and previous != (standing, cause):
            self.convention_standing.remove(convention, *previous)
        self.convention_standing.labels(convention, standing, cause).set(1)
        self._standing_labels[convention] = (standing, cause)
        for dataset, cadence in cadences.items():
            self.convention_cadence.labels(convention, dataset).set(CADENCE_SECONDS[cadence])

    def publish_indicator_sources(self, indicator: str, sources: Iterable[tuple[str, str]]) -> None:
        """The (convention, dataset) pairs `indicator` is computed from."""
        for convention, dataset in sources:
            self.indicator_source.labels(indicator, convention, dataset).set(1)

    def publish_consumer_lag(self, lag: Mapping[str, int]) -> None:
        """Topic -> messages not yet committed by the hub's group (`hub.stack.lag`)."""
        for topic, messages in lag.items():
            self.consumer_lag.labels(topic).set(messages)
