"""Short crash loop for ``make test``: 20+ SIGKILLs of the station, server restarts."""

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
