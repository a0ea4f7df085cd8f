"""Short crash loops for ``make test``: SIGKILLs of the station, server restarts and outages."""

from __future__ import annotations

import pytest

from tests.faults.crashloop import CrashLoop

pytestmark = pytest.mark.timeout(170)


def test_station_killed_at_random_moments_loses_and_duplicates_nothing(tmp_path):
    loop = CrashLoop(tmp_path, seed=20261128, restart_p=0.15, down_p=0.15)
    result = loop.run(kills=20)
    assert result.kills >= 20
    assert result.confirmed > 50, result
    assert result.server_restarts + result.offline_cycles > 0
    assert result.lost == 0, result.lost_ids[:10]
    assert result.duplicated == 0, result
    print(result.summary())


@pytest.mark.timeout(120)
def test_guestbook_station_killed_offline_loses_doubles_and_miscounts_nothing(tmp_path):
    # More scans than cards: first visits spread over the early cycles, most scans are
    # repeats within the day, the case that must not count again.
    loop = CrashLoop(
        tmp_path, seed=20261201, patrons=60, restart_p=0.15, down_p=0.3, guestbook=True
    )
    result = loop.run(kills=12)
    assert result.kills >= 12
    assert result.confirmed > 40, result
    assert result.repeats > 10, result
    assert result.offline_cycles > 0 and result.server_restarts > 0, result
    assert result.lost == 0, result.lost_ids[:10]
    assert result.duplicated == 0, result.problems[:10]
    assert result.miscounted == 0, result.problems[:10]
    assert result.visits >= result.confirmed
    print(result.summary())
