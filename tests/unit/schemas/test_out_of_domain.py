"""`out_of_domain` (column by column) finds exactly the records `domain_problem` refuses."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.catalog import load_catalog
from schemas.codec import domain_problem, out_of_domain

CAF = load_catalog().dataset("caf.allocataires", 2)

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=130),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["isole", "monoparent", "autre", "", "0"]),
    st.just(-0.0),
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries({name: ODD_VALUES for name in CAF.fields}), min_size=0, max_size=25
    )
)
def test_same_records_as_domain_problem(rows: list[dict[str, Any]]) -> None:
    expected = {i for i, r in enumerate(rows) if domain_problem(CAF.fields, r) is not None}
    assert out_of_domain(CAF.fields, rows) == expected


def test_unhashable_values_are_judged_record_by_record() -> None:
    rows: list[dict[str, Any]] = [{"type_foyer": ["isole"]}, {"type_foyer": "isole"}]
    assert out_of_domain(CAF.fields, rows) == {0}
    assert out_of_domain(CAF.fields, [{"age_responsable": 121}, {"rsa": 1}, {"rsa": 2}]) == {0, 2}
