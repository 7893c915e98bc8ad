"""Which levels an indicator can be published at, checked against the territory.

A record is placed at the grain its dataset's location allows
(`hub.aggregation`): a point (`lonlat`) in an atom of the territory's
overlay, so it counts in every area of every level; an IRIS code (`iris`)
or a 200 m grid cell (`carreau`, whose weights are per IRIS) in an IRIS
only, so it counts in the levels made of whole IRIS (`iris`, `commune`,
`epci`, zones given as IRIS lists or as polygons that are unions of IRIS)
and never in `qpv`, `commune_hors_qpv` or zones that cut IRIS; a QPV code
(`qpv`) in its QPV as a whole, so it counts at level `qpv` and in the
levels whose areas each hold whole QPV (the EPCI, usually). An indicator
is published at a level only when every dataset it reads was placed at a
grain that nests in it; `check_levels` refuses, in one line, a catalog that
asks for a level the territory lacks or one its inputs cannot feed.
"""

from __future__ import annotations

from contracts.indicators import IndicatorCatalog
from hub.errors import HubError
from hub.geography import Territory
from schemas.catalog import SchemaCatalog

POINT_LOCATIONS = ("lonlat",)


class IndicatorLevelError(HubError):
    """The indicator catalog asks for a level the territory or the data cannot give."""

    reason = "impossible_level"

    def __init__(self, indicator: str, detail: str) -> None:
        self.indicator, self.detail = indicator, detail
        super().__init__(f"indicator {indicator}: {detail}")


GRAIN_NAMES = {
    "lonlat": "a point",
    "iris": "an IRIS code",
    "carreau": "a grid cell",
    "qpv": "a QPV code",
}


def feeds(territory: Territory, location: str, level: str) -> bool:
    """Whether records placed by `location` count exactly in every area of `level`."""
    if location in POINT_LOCATIONS:
        return True
    if location != "qpv":  # an IRIS code or a grid cell: an IRIS
        return territory.made_of_iris(level)
    areas = [set(area.atoms) for area in territory.areas(level)]
    return all(any(set(qpv.atoms) <= held for held in areas) for qpv in territory.areas("qpv"))


def check_levels(catalog: IndicatorCatalog, territory: Territory, schemas: SchemaCatalog) -> None:
    """Raise IndicatorLevelError for the first indicator asking for an impossible level."""
    for indicator in catalog.each():
        for level in indicator.levels:
            if level not in territory.levels:
                known = ", ".join(territory.levels)
                raise IndicatorLevelError(
                    indicator.id, f"level {level} is not a level of the territory ({known})"
                )
            for dataset in indicator.datasets:
                for version in schemas.versions(dataset):
                    location = schemas.dataset(dataset, version).location
                    if not feeds(territory, location, level):
                        raise IndicatorLevelError(
                            indicator.id,
                            f"level {level} cuts what {dataset} is placed by "
                            f"({GRAIN_NAMES.get(location, location)}): it cannot feed it",
                        )
