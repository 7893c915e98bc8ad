"""`obshub demo`: the main job on the embedded stack.

Starts the stack, has each demo partner generate its SYNTHETIC extract and
publish it through its own connector (`obshub connector …`, a separate
process, as a partner's scheduled job would: hub and connectors never
import each other), waits until every indicator of the catalog is
published, and prints a summary with a demo token and a ready curl line.

Run twice, it publishes the same extracts again: the same drops, which the
hub ignores, so nothing doubles.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.indicators import IndicatorCatalog
from contracts.periods import normalise_period
from hub.errors import StackError
from hub.published import flat_rows
from hub.stack import Stack
from hub.stack.services import child_environment
from schemas.catalog import load_catalog
from schemas.codec import decode_message
from schemas.errors import SchemaError

DEMO_CONSUMER = "observatoire-bordeaux"
SEED = 2026


@dataclass(frozen=True)
class DemoExtract:
    dataset: str
    partner: str
    rows: int
    cadence: str
    communes: tuple[str, ...] = ()  # the communes its convention covers (default: all)


# Realistic sizes for Bordeaux and Le Bouscat (about 290,000 inhabitants).
EXTRACTS = (
    DemoExtract("insee.population", "insee", 0, "yearly"),
    DemoExtract("insee.menages", "insee", 0, "yearly"),
    DemoExtract("caf.allocataires", "caf33", 60_000, "monthly"),
    DemoExtract("france_travail.demandeurs", "francetravail33", 25_000, "monthly"),
    DemoExtract("departement.apa", "cd33", 6_000, "quarterly"),
    DemoExtract("ccas.aides", "ccas-bordeaux", 2_600, "monthly", ("33063",)),
    DemoExtract("ccas.aides", "ccas-le-bouscat", 400, "monthly", ("33069",)),
)


class DemoError(StackError):
    reason = "demo_failed"

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"demo: {detail}")


def demo_month(today: dt.date) -> str:
    """The last complete month: what a partner exports at the start of a month."""
    first = today.replace(day=1)
    previous = first - dt.timedelta(days=1)
    return f"{previous.year:04d}-{previous.month:02d}"


def demo_period(extract: DemoExtract, month: str) -> str:
    """The extract's period: the month, its quarter, or the previous census year."""
    if extract.cadence == "yearly":
        return str(int(month[:4]) - 1)
    return normalise_period(month, extract.cadence)


def _obshub(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=child_environment(stack.settings),
        text=True,
        stdout=subprocess.PIPE,
        check=False,
    )


def publish_extracts(stack: Stack, month: str, say: Callable[[str], None]) -> dict[str, str]:
    """Generate and publish each partner's extract; dataset → the period published."""
    directory = stack.settings.state_dir / "demo"
    directory.mkdir(parents=True, exist_ok=True)
    periods: dict[str, str] = {}
    for extract in EXTRACTS:
        period = demo_period(extract, month)
        path = directory / f"{extract.partner}-{extract.dataset}-{period}.csv"
        if not path.exists():
            only = ("--communes", ",".join(extract.communes)) if extract.communes else ()
            made = _obshub(
                stack,
                "connector",
                "generate",
                "--dataset",
                extract.dataset,
                "--rows",
                str(max(extract.rows, 1)),
                "--period",
                month,
                "--seed",
                str(SEED),
                "--out",
                str(path),
                *only,
            )
            if made.returncode != 0:
                raise DemoError(f"generating {extract.dataset} failed")
        convention = stack.settings.conventions_dir / f"{extract.partner}.yaml"
        say(f"{extract.partner} publishes {extract.dataset} for {period}")
        done = _obshub(
            stack,
            "connector",
            "publish",
            "--convention",
            str(convention),
            "--dataset",
            extract.dataset,
            "--source",
            str(path),
            "--period",
            period,
            "--quiet",
        )
        if done.returncode != 0:
            raise DemoError(f"{extract.partner} could not publish {extract.dataset}")
        say(done.stdout.strip())
        periods[extract.dataset] = period
    return periods


def expected_releases(
    catalog: IndicatorCatalog, periods: Mapping[str, str]
) -> set[tuple[str, str]]:
    """(indicator, period) pairs the demo must publish: each at its numerator's period."""
    return {(i.id, periods[i.numerator.dataset]) for i in catalog.each()}


def read_indicator_rows(stack: Stack) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """Per (indicator, period, level, code), the row of the latest release on
    `indicators`, read with the admin's credentials."""
    from kafka import KafkaConsumer, TopicPartition

    catalog = load_catalog()
    consumer = KafkaConsumer(
        **stack.admin_credentials().kafka_python_config(), enable_auto_commit=False
    )
    try:
        parts = [
            TopicPartition("indicators", p)
            for p in consumer.partitions_for_topic("indicators") or ()
        ]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    try:
                        schema, release = decode_message(catalog, record.value)
                    except SchemaError:  # written by an older hub: not a release
                        continue
                    if schema.name != "indicator_release":
                        continue
                    key = (release["indicator"], release["period"])
                    for stale in [k for k in rows if k[:2] == key]:
                        del rows[stale]  # a release replaces the whole table
                    for row in flat_rows(release):
                        rows[(*key, row["level"], row["code"])] = row
        return rows
    finally:
        consumer.close()


def wait_for_indicators(
    stack: Stack, wanted: set[tuple[str, str]], timeout_s: float, say: Callable[[str], None]
) -> dict[tuple[str, str, str, str], Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        rows = read_indicator_rows(stack)
        present = {(key[0], key[1]) for key in rows}
        missing = wanted - present
        if not missing:
            return rows
        if time.monotonic() > deadline:
            raise DemoError(
                "indicators still missing after "
                f"{timeout_s:.0f}s: {', '.join(sorted(i for i, _ in missing))}"
            )
        say(f"waiting for {len(missing)} indicator(s)")
        time.sleep(2)


def format_summary(
    rows: Mapping[tuple[str, str, str, str], Mapping[str, Any]],
    catalog: IndicatorCatalog,
    wanted: set[tuple[str, str]],
) -> str:
    """Per indicator: the commune values, then each other level's areas
    published and secret (`iris 60/6 qpv 3/0 …`)."""
    periods = dict(wanted)
    communes = sorted({key[3] for key in rows if key[2] == "commune"})
    header = f"{'indicator':<30} {'period':<8} " + " ".join(f"{c:>10}" for c in communes)
    lines = [header + "   other levels: areas ok/secret", "-" * (len(header) + 32)]
    for indicator in catalog.each():
        period = periods[indicator.id]
        values = []
        for commune in communes:
            row = rows.get((indicator.id, period, "commune", commune))
            values.append(
                "secret" if row is None or row["status"] != "ok" else f"{row['value']:.2f}"
            )
        levels = []
        for level in indicator.levels:
            if level == "commune":
                continue
            found = [r for k, r in rows.items() if k[:3] == (indicator.id, period, level)]
            ok = sum(1 for r in found if r["status"] == "ok")
            levels.append(f"{level} {ok}/{len(found) - ok}")
        lines.append(
            f"{indicator.id:<30} {period:<8} "
            + " ".join(f"{v:>10}" for v in values)
            + "   "
            + " ".join(levels)
        )
    lines.append(
        "(communes: 33063 Bordeaux, 33069 Le Bouscat; EPCI 243300316 Bordeaux Métropole; "
        "SYNTHETIC demo data)"
    )
    return "\n".join(lines)


def issue_demo_token(stack: Stack) -> str:
    from hub.api.tokens import TokenStore

    return TokenStore(stack.settings.access_dir).issue(DEMO_CONSUMER).token


def run_demo(
    stack: Stack, say: Callable[[str], None], today: dt.date | None = None, timeout_s: float = 180
) -> str:
    """The whole demo; returns the summary text to print."""
    from contracts.loading import load_indicator_catalog

    started = time.monotonic()
    stack.up(say)
    month = demo_month(today or dt.date.today())
    periods = publish_extracts(stack, month, say)
    catalog = load_indicator_catalog(stack.settings.catalog_file)
    wanted = expected_releases(catalog, periods)
    rows = wait_for_indicators(stack, wanted, timeout_s, say)
    token = issue_demo_token(stack)
    some = sorted(wanted)[0]
    url = f"{stack.settings.api_url}/v1/indicators/{some[0]}?period={some[1]}&level=commune"
    return "\n".join(
        [
            format_summary(rows, catalog, wanted),
            "",
            f"Kafka     {stack.settings.bootstrap_servers} (SCRAM; client settings in "
            f"{stack.settings.credentials_dir}/)",
            f"API       {stack.settings.api_url}  (OpenAPI: {stack.settings.api_url}/openapi.json)",
            f"metrics   {stack.settings.metrics_url}",
            f"token for {DEMO_CONSUMER} (shown once): {token}",
            f"try:      curl -H 'Authorization: Bearer {token}' '{url}'",
            f"demo done in {time.monotonic() - started:.0f}s; the stack stays up "
            "(`make down` stops it)",
        ]
    )
