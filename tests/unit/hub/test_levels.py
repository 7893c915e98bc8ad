"""The catalog is checked against the territory at load: levels and grains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from contracts.loading import load_indicator_catalog
from hub.cli import app
from hub.levels import IndicatorLevelError, check_levels
from schemas.catalog import load_catalog
from tests.unit.hub.geo_support import DEMO_INDICATORS, demo_territory

SCHEMAS = load_catalog()


def catalog_with(tmp_path: Path, indicator: str, levels: list[str]) -> Path:
    """The demo catalog with one indicator's levels changed."""
    data = yaml.safe_load(DEMO_INDICATORS.read_text(encoding="utf-8"))
    for entry in data["indicators"]:
        if entry["id"] == indicator:
            entry["levels"] = levels
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_demo_catalog_fits_the_demo_territory() -> None:
    catalog = load_indicator_catalog(DEMO_INDICATORS)
    check_levels(catalog, demo_territory(), SCHEMAS)
    defm = catalog.get("defm_cat_a")
    assert defm is not None and "qpv" in defm.levels and "quartier" in defm.levels


@pytest.mark.parametrize(
    ("indicator", "level", "message"),
    [
        (
            "caf_allocataires",
            "qpv",
            "indicator caf_allocataires: level qpv cuts what caf.allocataires is placed by "
            "(an IRIS code): it cannot feed it",
        ),
        (
            "apa_domicile_pour_100_75plus",
            "commune_hors_qpv",
            "level commune_hors_qpv cuts what departement.apa is placed by (a grid cell)",
        ),
        (
            "defm_cat_a",
            "canton",
            "indicator defm_cat_a: level canton is not a level of the territory "
            "(iris, commune, qpv, commune_hors_qpv, epci, quartier)",
        ),
    ],
)
def test_an_impossible_level_is_refused_in_one_line(
    tmp_path: Path, indicator: str, level: str, message: str
) -> None:
    catalog = load_indicator_catalog(catalog_with(tmp_path, indicator, ["iris", level]))
    with pytest.raises(IndicatorLevelError) as caught:
        check_levels(catalog, demo_territory(), SCHEMAS)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_ratio_is_published_only_where_both_inputs_nest(tmp_path: Path) -> None:
    # points over households counted by IRIS: the households cannot be cut by a QPV
    data = yaml.safe_load(DEMO_INDICATORS.read_text(encoding="utf-8"))
    data["indicators"].append(
        {
            "id": "defm_pour_100_menages",
            "title": "Demandeurs pour 100 ménages",
            "unit": "pour 100 ménages",
            "numerator": {"dataset": "france_travail.demandeurs"},
            "denominator": {"dataset": "insee.menages", "sum": "menages"},
            "scale": 100,
            "levels": ["iris", "qpv"],
        }
    )
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(IndicatorLevelError, match=r"insee\.menages is placed by \(an IRIS code\)"):
        check_levels(load_indicator_catalog(path), demo_territory(), SCHEMAS)


def test_the_worker_refuses_to_start_on_such_a_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "hub.properties"
    credentials.write_text("bootstrap.servers=127.0.0.1:1\n", encoding="utf-8")
    monkeypatch.setenv("OBSHUB_HUB_KAFKA_CONFIG", str(credentials))
    monkeypatch.setenv("OBSHUB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv(
        "OBSHUB_CATALOG_FILE", str(catalog_with(tmp_path, "caf_allocataires", ["qpv"]))
    )
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "caf_allocataires: level qpv cuts what caf.allocataires is placed by" in lines[0]


def qpv_coded_schema() -> Any:
    """A dataset whose partner locates each record by its QPV code."""
    from schemas.model import build_dataset_schema

    return build_dataset_schema(
        {
            "type": "record",
            "name": "suivis",
            "namespace": "obshub.dataset.ville",
            "obshub.dataset": "ville.suivis",
            "obshub.version": 1,
            "obshub.grain": "person",
            "obshub.identifier": "id",
            "obshub.location": "qpv",
            "fields": [
                {"name": "id", "type": ["null", "string"], "default": None},
                {"name": "code_qp", "type": "string"},
            ],
        },
        "ville.suivis/v1.avsc",
        "ville.suivis",
        1,
    )


def test_records_located_by_qpv_code_feed_the_qpv_and_the_epci_only() -> None:
    from collections import Counter

    from contracts.indicators import Indicator, IndicatorCatalog, Selection
    from hub.aggregation import ChunkKey, place_records
    from hub.indicator_tables import build_indicator_table
    from hub.tables import DropAggregate, selection_key
    from schemas.catalog import SchemaCatalog

    schema = qpv_coded_schema()
    territory = demo_territory()
    records = [
        {"id": f"p{i}", "code_qp": code}
        for i, code in enumerate(["QN03301M"] * 14 + ["QN03303M"] * 20 + ["QN09999Z", None])
    ]
    placed, rejected = place_records(records, schema, territory, ChunkKey("d", 0))
    assert Counter(place for place, _ in placed) == {"qpv:QN03301M": 14, "qpv:QN03303M": 20}
    assert rejected == {"outside_territory": 1, "missing_location": 1}

    indicator = Indicator(
        id="suivis",
        title="Suivis",
        unit="personnes",
        numerator=Selection(dataset="ville.suivis"),
        levels=("qpv", "epci"),
    )
    catalog = IndicatorCatalog(indicators=(indicator,))
    schemas = SchemaCatalog([schema], [])
    check_levels(catalog, territory, schemas)  # whole QPV: the QPV and the EPCI
    straddled = IndicatorCatalog(
        indicators=(indicator.model_copy(update={"levels": ("commune",)}),)
    )
    with pytest.raises(
        IndicatorLevelError,
        match=r"level commune cuts what ville\.suivis is placed by \(a QPV code\)",
    ):
        check_levels(straddled, territory, schemas)  # QN03303M lies over two communes

    counts = {selection_key(indicator.numerator): dict(Counter(p for p, _ in placed))}
    drop = DropAggregate("d", "ville", "c", 1, "ville.suivis", "2026-03", counts, len(placed))
    table = build_indicator_table(indicator, "2026-03", {"ville.suivis": [drop]}, territory)
    assert table is not None
    assert {(c.level, c.code): c.numerator for c in table.cells} == {
        ("qpv", "QN03301M"): 14,
        ("qpv", "QN03302M"): 0,
        ("qpv", "QN03303M"): 20,
        ("epci", "243300316"): 34,
    }
