"""`obshub report`: the convention compliance dashboard as plain text.

For data stewards without Grafana: per convention, its status and validity
left, each dataset's last drop against its cadence, drops and records
accepted and rejected by reason, and the cells published and secret of the
indicators it feeds. Read from the worker's /metrics; the formatting is a
pure function of the parsed samples.
"""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from hub.errors import HubError

Labels = dict[str, str]


class ReportError(HubError):
    reason = "metrics_unreadable"

    def __init__(self, url: str, detail: str) -> None:
        self.detail = detail
        super().__init__(f"cannot read the worker's metrics at {url}: {detail}")


@dataclass
class Samples:
    """Metric samples by name: a list of (labels, value)."""

    by_name: dict[str, list[tuple[Labels, float]]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Samples:
        samples = cls()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.by_name.setdefault(sample.name, []).append(
                    (dict(sample.labels), float(sample.value))
                )
        return samples

    def each(self, name: str, **match: str) -> Iterable[tuple[Labels, float]]:
        for labels, value in self.by_name.get(name, []):
            if all(labels.get(k) == v for k, v in match.items()):
                yield labels, value

    def total(self, name: str, **match: str) -> float:
        return sum(value for _, value in self.each(name, **match))


def fetch_samples(url: str) -> Samples:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return Samples.parse(response.read().decode())
    except (urllib.error.URLError, OSError) as exc:
        raise ReportError(url, "is the worker running? (`obshub status`)") from exc


def _days(seconds: float) -> str:
    return f"{seconds / 86400:.1f} d"


STANDING_TEXT = {
    "in_force": "in force",
    "superseded": "SUPERSEDED",
    "expired": "EXPIRED",
    "revoked": "REVOKED",
    "draft": "DRAFT (not applied)",
}


def _standing(samples: Samples, convention: str) -> str:
    """Where the convention stands and why, from `obshub_convention_standing`."""
    for labels, value in samples.each("obshub_convention_standing", convention=convention):
        if value == 1:
            text = STANDING_TEXT.get(labels["standing"], labels["standing"])
            cause = labels.get("cause", "")
            return f"{text}: {cause}" if cause and labels["standing"] != "in_force" else text
    applicable = samples.total("obshub_convention_applicable", convention=convention) > 0
    return "in force" if applicable else "NOT APPLICABLE"


def _validity(left_s: float) -> str:
    return f"{_days(left_s)} of validity left" if left_s > 0 else "validity ended"


def format_report(samples: Samples, now: dt.datetime) -> str:
    """The compliance report, one block per convention."""
    stamp = now.timestamp()
    conventions = sorted(
        {
            labels["convention"]
            for labels, _ in samples.each("obshub_convention_valid_until_seconds")
        }
    )
    if not conventions:
        return "no convention known to the worker"
    partner_of: dict[str, str] = {}
    for labels, _ in samples.each("obshub_drops_total"):
        partner_of[labels["convention"]] = labels["partner"]
    feeds: dict[str, set[str]] = defaultdict(set)
    for labels, _ in samples.each("obshub_indicator_source_info"):
        feeds[labels["convention"]].add(labels["indicator"])
    lines = [f"obshub compliance report, {now.isoformat(timespec='seconds')}"]
    for convention in conventions:
        until = samples.total("obshub_convention_valid_until_seconds", convention=convention)
        lines += ["", f"{convention}: {_standing(samples, convention)}, {_validity(until - stamp)}"]
        for labels, cadence in samples.each(
            "obshub_convention_cadence_seconds", convention=convention
        ):
            dataset = labels["dataset"]
            last = samples.total(
                "obshub_convention_last_drop_timestamp_seconds",
                convention=convention,
                dataset=dataset,
            )
            if last <= 0:
                when = "no drop accepted since the worker started"
            else:
                age = stamp - last
                late = " LATE" if age > 1.2 * cadence else ""
                when = f"last drop {_days(age)} ago, cadence {_days(cadence)}{late}"
            accepted = samples.total(
                "obshub_drops_total", convention=convention, dataset=dataset, outcome="accepted"
            )
            rejected = samples.total(
                "obshub_drops_total", convention=convention, dataset=dataset, outcome="rejected"
            )
            records = samples.total(
                "obshub_records_total", convention=convention, dataset=dataset, outcome="aggregated"
            )
            bad = samples.total(
                "obshub_records_total", convention=convention, dataset=dataset, outcome="rejected"
            )
            lines.append(
                f"  {dataset}: {when}; drops {accepted:.0f} accepted, "
                f"{rejected:.0f} rejected; records {records:.0f} aggregated, "
                f"{bad:.0f} rejected"
            )
            partner = partner_of.get(convention, "")
            for labels2, count in sorted(
                samples.each("obshub_record_rejections_total", partner=partner, dataset=dataset),
                key=lambda item: -item[1],
            ):
                lines.append(f"    records rejected {count:.0f}: {labels2['reason']}")
        for labels, count in samples.each("obshub_drop_rejections_total", convention=convention):
            lines.append(f"  drops rejected {count:.0f}: {labels['reason']}")
        for indicator in sorted(feeds.get(convention, ())):
            ok = samples.total("obshub_cells_total", indicator=indicator, status="published")
            secret = sum(
                samples.total("obshub_cells_total", indicator=indicator, status=s)
                for s in ("secret_primary", "secret_secondary")
            )
            lines.append(f"  feeds {indicator}: {ok:.0f} cells published, {secret:.0f} secret")
    return "\n".join(lines)
