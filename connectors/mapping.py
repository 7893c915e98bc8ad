"""Column mappings: a partner's export adapted to the hub's dataset fields.

A mapping file (YAML) lets a partner keep its export as it is:

    columns:            # dataset field: partner column
      matricule: NUM_ALLOCATAIRE
      iris: CODE_IRIS
    values:             # per dataset field: partner value -> dataset value
      type_foyer:
        "Isolé": isole
        "Famille monoparentale": monoparent
      rsa: {"O": 1, "N": 0}

Columns not named keep their name; values not listed pass unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from connectors.errors import ConnectorError
from schemas.errors import PlacedError


class MappingError(PlacedError, ConnectorError):
    """The mapping file, or the extract's header against it, is wrong."""

    reason = "bad_mapping"


@dataclass(frozen=True)
class ColumnMapping:
    columns: Mapping[str, str] = field(default_factory=dict)  # field -> partner column
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # field -> {in: out}
    source: Path | None = None

    def column_for(self, field_name: str) -> str:
        return self.columns.get(field_name, field_name)

    def locate(
        self, header: Sequence[str], fields: Sequence[str], required: Sequence[str]
    ) -> dict[str, int]:
        """Index in `header` of each dataset field present; missing required → error."""
        index = {name: i for i, name in enumerate(header)}
        found: dict[str, int] = {}
        missing: list[str] = []
        for name in fields:
            column = self.column_for(name)
            if column in index:
                found[name] = index[column]
            elif name in required:
                missing.append(name if column == name else f"{name} (column {column!r})")
        if missing:
            raise MappingError(
                self.source,
                "the extract has no column for "
                + ", ".join(missing)
                + f"; its columns are: {', '.join(header)}"
                + (" (map them under `columns:` in a mapping file)" if self.source is None else ""),
            )
        return found


def _text_map(path: Path, field_name: str, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise MappingError(path, f"values.{field_name}: expected a map of partner value to value")
    return {_scalar(k): _scalar(v) for k, v in raw.items()}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def load_mapping(path: Path) -> ColumnMapping:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(path, f"cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise MappingError(path, f"{where}not valid YAML") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict) or set(data) - {"columns", "values"}:
        raise MappingError(path, "expected top-level keys `columns` and/or `values` only")
    columns = data.get("columns") or {}
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        raise MappingError(path, "columns: expected `dataset_field: partner column` pairs")
    values_raw = data.get("values") or {}
    if not isinstance(values_raw, dict):
        raise MappingError(path, "values: expected a map per dataset field")
    values = {str(name): _text_map(path, str(name), raw) for name, raw in values_raw.items()}
    return ColumnMapping(columns=dict(columns), values=values, source=path)
