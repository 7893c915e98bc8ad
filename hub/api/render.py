"""An indicator's rows as the API answers them: JSON, CSV or GeoJSON (pure).

JSON: `{"indicator", "period", "unit", "rows": [{"level", "code", "period",
"value", "numerator", "denominator", "status"}]}`. CSV: a header row
`indicator,level,code,period,value,numerator,denominator,status`, then one
line per row, an empty field for null. GeoJSON: a FeatureCollection with one
Feature per row (id `<level>:<code>`), the IRIS polygon or the commune's
(union of its IRIS), and as properties the row's fields, the indicator, its
unit and the area's name; a row whose code the territory lacks has a null
geometry. Secret rows carry no figure in any format.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from contracts.indicators import Indicator
from hub.api.shapes import Shapes
from hub.api.view import IndicatorRow

CSV_COLUMNS = (
    "indicator",
    "level",
    "code",
    "period",
    "value",
    "numerator",
    "denominator",
    "status",
)


def indicator_summary(indicator: Indicator, periods: Sequence[str]) -> dict[str, Any]:
    """One entry of a consumer's catalog."""
    return {
        "id": indicator.id,
        "title": indicator.title,
        "unit": indicator.unit,
        "inputs": list(indicator.datasets),
        "levels": [level.value for level in indicator.levels],
        "periods": list(periods),
    }


def table_json(indicator: Indicator, period: str, rows: Sequence[IndicatorRow]) -> dict[str, Any]:
    return {
        "indicator": indicator.id,
        "period": period,
        "unit": indicator.unit,
        "rows": [row.public() for row in rows],
    }


def table_csv(indicator: Indicator, rows: Sequence[IndicatorRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        fields = {"indicator": indicator.id, **row.public()}
        writer.writerow([_cell(fields[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def table_geojson(
    indicator: Indicator, period: str, rows: Sequence[IndicatorRow], shapes: Shapes
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
                    **row.public(),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "indicator": indicator.id,
        "period": period,
        "features": features,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)
