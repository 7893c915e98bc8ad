"""The schema model: field kinds the block codec handles."""

from __future__ import annotations


def test_the_fast_paths_know_each_field_kind_once() -> None:
    from schemas.model import fast_field

    assert fast_field("string") == ("string", None)
    assert fast_field(["null", "long"]) == ("long", 0)
    assert fast_field(["double", "null"]) == ("double", 1)
    assert fast_field({"type": "int", "logicalType": "date"}) == ("date", None)
    assert fast_field(["null", {"type": "int", "logicalType": "date"}]) == ("date", 0)
    assert fast_field("float") is None  # fastavro writes it
    assert fast_field(["null", "string", "long"]) is None
    assert fast_field({"type": "long", "logicalType": "timestamp-millis"}) is None
