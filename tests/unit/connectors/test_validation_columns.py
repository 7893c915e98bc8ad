"""Column-wise validation gives what a row-by-row loop over the converters gives.

`row_by_row` is the loop `RowValidator.validate` replaced (per row, each
field's converter in field order, the first refusal names the reason, then
the IRIS code's commune and, with a reference list, the code itself):
records, rejections, examples and their order must all be the same.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import validation
from connectors.mapping import ColumnMapping
from connectors.sources import RowBatch
from connectors.validation import RowReject, RowValidator, Tally

from .test_validation import GOOD, HEADER, REFERENCE, validator, with_reference


def row_by_row(v: RowValidator, batch: RowBatch, tally: Tally) -> list[dict[str, Any]]:
    records = []
    for number, row in zip(batch.numbers, batch.rows, strict=True):
        if row is None:
            tally.reject("unreadable_row", number)
            continue
        if len(row) != v.width:
            tally.reject("wrong_column_count", number)
            continue
        record = dict(v.template)
        try:
            for name, index, convert in v.readers:
                record[name] = convert(row[index])
        except RowReject as reject:
            tally.reject(reject.reason, number)
            continue
        if v.location_field is not None:
            code = record[v.location_field]
            if code[:5] not in v.territory:
                tally.reject("outside_territory", number)
                continue
            if v.reference is not None and code not in v.reference:
                tally.reject("unknown_iris", number)
                continue
        records.append(record)
    tally.rows_read += len(batch.rows)
    tally.rows_accepted += len(records)
    return records


CELLS = {  # per column: good and faulty cells
    0: ["0123456", " 42 ", "", "x"],
    1: ["330630101", "330690109", "999999999", "3306301", "", " 330630102 ", "332810101"],
    2: ["37", "17", "-3", "abc", "", "121", "40,0", "12.5"],
    3: ["isole", "monoparent", "autre", ""],
    4: ["0", "3", "21", "x", ""],
    5: ["0", "1", "2", ""],
    6: ["0", "1", " 1 "],
    7: ["1", "zzz"],  # aah: dropped by the terms, never read
    8: ["0", "1", "7"],
    9: ["texte", ""],
}


@st.composite
def rows(draw: st.DrawFn) -> list[list[str | None] | None]:
    out: list[list[str | None] | None] = []
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        kind = draw(st.sampled_from(["good", "good", "mixed", "none", "short"]))
        if kind == "none":
            out.append(None)
        elif kind == "short":
            out.append(list(GOOD[:5]))
        elif kind == "good":
            out.append(list(GOOD))
        else:
            out.append([draw(st.sampled_from(CELLS[i])) for i in range(len(HEADER))])
    return out


def assert_same_result(v_columns: RowValidator, v_rows: RowValidator, batch: RowBatch) -> None:
    expected_tally, got_tally = Tally(), Tally()
    expected = row_by_row(v_rows, batch, expected_tally)
    got = v_columns.validate(batch, got_tally)
    assert got == expected
    assert [list(r) for r in got] == [list(r) for r in expected]  # key order too
    assert got_tally == expected_tally
    assert list(got_tally.rejections) == list(expected_tally.rejections)


@settings(max_examples=300, deadline=None)
@given(
    batches=st.lists(rows(), min_size=1, max_size=4),
    reference=st.sampled_from([None, REFERENCE]),
)
def test_columns_equal_rows(
    batches: list[list[list[str | None] | None]], reference: frozenset[str] | None
) -> None:
    v_columns, v_rows = with_reference(reference), with_reference(reference)
    number = 2
    for batch_rows in batches:
        batch = RowBatch(list(range(number, number + len(batch_rows))), batch_rows)
        number += len(batch_rows) + 1
        assert_same_result(v_columns, v_rows, batch)


def test_mapped_values_and_cells_of_xlsx_sources() -> None:
    mapping = ColumnMapping(
        columns={"matricule": "NUM"},
        values={"type_foyer": {"Isolé": "isole"}, "matricule": {"A1": " mapped "}},
    )
    header = ["NUM", *HEADER[1:]]
    v_columns, v_rows = validator(mapping, header), validator(mapping, header)
    good = list(GOOD)
    batch_rows: list[list[str | None] | None] = [
        ["A1", *good[1:3], "Isolé", *good[4:]],
        [None, *good[1:]],
        [" ", *good[1:]],
        [*good[:2], None, *good[3:]],
    ]
    assert_same_result(v_columns, v_rows, RowBatch([2, 3, 4, 5], batch_rows))


def test_beyond_the_memo_limit() -> None:
    v_columns, v_rows = validator(), validator()
    many = validation.MEMO_LIMIT * 3
    cells: list[list[str | None]] = [
        [f"{i:07d}", *GOOD[1:2], str(i % 130), *GOOD[3:]] for i in range(many)
    ]
    cells[many - 5][0] = ""  # the identifier's memo is gone by then
    cells[many - 4][2] = "abc"
    batch_rows: list[list[str | None] | None] = list(cells)
    half = many // 2
    assert_same_result(v_columns, v_rows, RowBatch(list(range(2, 2 + half)), batch_rows[:half]))
    assert_same_result(
        v_columns, v_rows, RowBatch(list(range(2 + half, 2 + many)), batch_rows[half:])
    )
