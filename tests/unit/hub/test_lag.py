from hub.kafka_admin import compute_lag


def test_lag_sums_partitions_and_counts_uncommitted_from_zero() -> None:
    ends = {("drops.caf33", 0): 10, ("drops.caf33", 1): 4, ("drops.insee", 0): 7}
    committed = {("drops.caf33", 0): 8, ("drops.insee", 0): 7}
    assert compute_lag(ends, committed) == {"drops.caf33": 6, "drops.insee": 0}


def test_lag_is_never_negative() -> None:
    assert compute_lag({("t", 0): 3}, {("t", 0): 5}) == {"t": 0}
