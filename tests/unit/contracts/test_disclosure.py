import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from contracts.disclosure import DEFAULT_RULES, DisclosureRules, strictest

rules = st.builds(
    DisclosureRules,
    k=st.integers(1, 50),
    complement=st.booleans(),
    min_denominator=st.integers(0, 500),
    dominance=st.floats(0.01, 1.0),
    secondary_suppression=st.booleans(),
)


def test_defaults_follow_the_secret_statistique_notes() -> None:
    assert (
        DisclosureRules(
            k=11, complement=True, min_denominator=50, dominance=0.85, secondary_suppression=True
        )
        == DEFAULT_RULES
    )


def test_strictest_takes_the_strictest_of_each_rule() -> None:
    lax = DisclosureRules(
        k=5, complement=False, min_denominator=20, dominance=0.9, secondary_suppression=False
    )
    strict = DisclosureRules(
        k=11, complement=False, min_denominator=100, dominance=0.8, secondary_suppression=True
    )
    other = DisclosureRules(k=3, complement=True, min_denominator=10, dominance=0.95)
    assert strictest(lax, strict, other) == DisclosureRules(
        k=11, complement=True, min_denominator=100, dominance=0.8, secondary_suppression=True
    )
    assert strictest(lax) == lax


@given(st.lists(rules, min_size=1, max_size=5))
def test_strictest_is_at_least_as_strict_as_each_and_order_free(
    given_rules: list[DisclosureRules],
) -> None:
    result = strictest(*given_rules)
    assert result == strictest(*reversed(given_rules))
    for r in given_rules:
        assert result.k >= r.k and result.min_denominator >= r.min_denominator
        assert result.dominance <= r.dominance
        assert result.complement >= r.complement
        assert result.secondary_suppression >= r.secondary_suppression


@pytest.mark.parametrize(
    "bad", [{"k": 0}, {"dominance": 0}, {"dominance": 1.2}, {"min_denominator": -1}]
)
def test_rules_out_of_range_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        DisclosureRules.model_validate(bad)
