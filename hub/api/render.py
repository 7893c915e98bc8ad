"""A release as the API answers it: JSON, CSV or GeoJSON (pure).

Every answer comes from one release and says which. JSON: `{"indicator",
"period", "unit", "release_id", "published_at", "sources": [{"partner",
"dataset", "period", "convention", "convention_version"}], "rows":
[{"level", "code", "period", "value", "numerator", "denominator",
"status"}]}`. CSV: a header row
`indicator,level,code,period,value,numerator,denominator,status,release_id`,
then one line per row, an empty field for null. GeoJSON: a
FeatureCollection with `release_id`, `published_at` and `sources` beside
its features, one Feature per row (id `<level>:<code>`), the IRIS polygon
or the commune's (union of its IRIS), and as properties the row's fields,
the indicator, its unit, the release id and the area's name; a row whose
code the territory lacks has a null geometry. Secret rows carry no figure
in any format. A register entry (`release_summary`) is the release without
its rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from contracts.indicators import Indicator
from hub.api.shapes import Shapes
from hub.published import IndicatorRelease, Row

CSV_COLUMNS = (
    "indicator",
    "level",
    "code",
    "period",
    "value",
    "numerator",
    "denominator",
    "status",
    "release_id",
)


def indicator_summary(indicator: Indicator, periods: Sequence[str]) -> dict[str, Any]:
    """One entry of a consumer's catalog."""
    return {
        "id": indicator.id,
        "title": indicator.title,
        "unit": indicator.unit,
        "inputs": list(indicator.datasets),
        "levels": list(indicator.levels),
        "periods": list(periods),
    }


def provenance(release: IndicatorRelease) -> dict[str, Any]:
    """Which release an answer comes from and what it is made of."""
    return {
        "release_id": release.release_id,
        "published_at": release.published_at,
        "sources": [source.public() for source in release.sources],
    }


def release_summary(release: IndicatorRelease) -> dict[str, Any]:
    """A release's entry in the register."""
    return release.summary()


def release_detail(release: IndicatorRelease) -> dict[str, Any]:
    """A release as `GET /v1/releases/{id}` answers: its entry and its rows."""
    return {**release.summary(), "rows": [row.public(release.period) for row in release.rows]}


def table_json(
    indicator: Indicator, release: IndicatorRelease, rows: Sequence[Row]
) -> dict[str, Any]:
    return {
        "indicator": indicator.id,
        "period": release.period,
        "unit": indicator.unit,
        **provenance(release),
        "rows": [row.public(release.period) for row in rows],
    }


def table_csv(indicator: Indicator, release: IndicatorRelease, rows: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        fields = {
            "indicator": indicator.id,
            **row.public(release.period),
            "release_id": release.release_id,
        }
        writer.writerow([_cell(fields[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def table_geojson(
    indicator: Indicator, release: IndicatorRelease, rows: Sequence[Row], shapes: Shapes
) -> dict[str, Any]:
    features = []
    for row in rows:
        shape = shapes.get(row.level, row.code)
        features.append(
            {
                "type": "Feature",
                "id": f"{row.level}:{row.code}",
                "geometry": shape.geometry if shape is not None else None,
                "properties": {
                    "indicator": indicator.id,
                    "unit": indicator.unit,
                    "name": shape.name if shape is not None else None,
                    "release_id": release.release_id,
                    **row.public(release.period),
                },
            }
        )
    origin = provenance(release)
    origin["published_at"] = release.published_at.isoformat().replace("+00:00", "Z")
    return {
        "type": "FeatureCollection",
        "indicator": indicator.id,
        "period": release.period,
        **origin,
        "features": features,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)
