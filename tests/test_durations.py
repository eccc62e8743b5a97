"""Reset times and waits are written as the API writes them: Go durations, cut to the millisecond."""

from __future__ import annotations

import pytest

from server.http.durations import go_duration, whole_ms


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (6, "6ms"),
        (999, "999ms"),
        (1000, "1s"),
        (1146, "1.146s"),
        (1080, "1.08s"),
        (20_000, "20s"),
        (60_000, "1m0s"),
        (90_500, "1m30.5s"),
        (360_000, "6m0s"),
        (3_600_000, "1h0m0s"),
        (3_723_004, "1h2m3.004s"),
    ],
)
def test_durations_read_as_go_writes_them(ms: int, text: str) -> None:
    assert go_duration(ms) == text


def test_fractions_of_a_millisecond_are_cut_not_rounded() -> None:
    assert whole_ms(0.00264) == 2
    assert whole_ms(0.00075) == 0
    assert whole_ms(955 / (50000 / 60)) == 1146  # a float a hair below 1.146 s still reads 1.146
    assert whole_ms(-1.0) == 0
