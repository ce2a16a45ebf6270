"""The k schedule against the table of spec/benchmark.md §6.5."""

from __future__ import annotations

import pytest

from envs.errors import ConfigError
from search.config import parse_count
from search.schedule import k_schedule

TABLE = [
    (1, 32, 32), (10, 43, 59), (32, 60, 117), (100, 91, 256), (1_000, 256, 1114),
    (10_000, 725, 2048), (100_000, 1551, None), (500_000, 1996, None),
]  # fmt: skip


@pytest.mark.parametrize(("n", "k_1e6", "k_1e4"), TABLE)
def test_k_schedule_matches_spec_table(n: int, k_1e6: int, k_1e4: int | None) -> None:
    assert k_schedule(n) == k_1e6
    assert k_schedule(n, horizon=1_000_000) == k_1e6
    if k_1e4 is not None:
        assert k_schedule(n, horizon=10_000) == k_1e4


def test_k_schedule_ends() -> None:
    assert k_schedule(0) == 32 and k_schedule(-5) == 32
    assert k_schedule(1_000_000) == 2048 and k_schedule(5_000_000) == 2048
    assert k_schedule(10, start=8, end=8) == 8


def test_linear_variants() -> None:
    # Halfway in linear ratio, linear easing and linear interpolation: exactly the midpoint.
    linear = {"ratio": "linear", "easing": "linear", "interpolation": "linear"}
    assert k_schedule(500, horizon=1000, **linear) == 1040
    # Log interpolation at the midpoint is the geometric mean 2^8 = 256.
    assert k_schedule(500, horizon=1000, ratio="linear", easing="linear") == 256
    # The sine easing is symmetric: the midpoint stays the midpoint.
    assert k_schedule(500, horizon=1000, ratio="linear", interpolation="linear") == 1040
    ks = [k_schedule(n, horizon=10_000, ratio="linear") for n in range(0, 10_001, 500)]
    assert ks == sorted(ks) and ks[0] == 32 and ks[-1] == 2048


@pytest.mark.parametrize(
    "kwargs", [{"ratio": "exp"}, {"easing": "cos"}, {"interpolation": "cubic"}, {"start": 0}]
)
def test_bad_options_raise(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        k_schedule(10, **kwargs)
    with pytest.raises(ValueError):  # ConfigError is a ValueError too
        k_schedule(10, **kwargs)


@pytest.mark.parametrize(
    ("text", "value"), [("1e6", 10**6), ("100_000", 10**5), ("2,500", 2500), (" 7 ", 7)]
)
def test_counts_are_read_as_people_write_them(text: str, value: int) -> None:
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["12.5", "lots", "nan", "1e400", ""])
def test_a_count_that_is_not_a_whole_number_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError, match="not a"):
        parse_count(text)
