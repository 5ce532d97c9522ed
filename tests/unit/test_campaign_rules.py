"""The rules every assist campaign keeps, whether it comes from the API or a catalog file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.members.rules import campaign_problems

START = datetime(2026, 6, 18, tzinfo=timezone.utc)


def problems(**changed) -> list[tuple[str, str]]:
    values = dict(required_assists=50, helper_daily_limit=3, starts_at=START, ends_at=START + timedelta(days=30))
    return list(campaign_problems(**{**values, **changed}))


def test_a_sound_campaign_breaks_no_rule():
    assert problems() == []
    assert problems(required_assists=10_000, helper_daily_limit=1_000) == []


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({"required_assists": 0}, [("requiredAssists", "must be from 1 to 10000")]),
        ({"required_assists": 10_001}, [("requiredAssists", "must be from 1 to 10000")]),
        ({"helper_daily_limit": 0}, [("helperDailyLimit", "must be from 1 to 1000")]),
        ({"helper_daily_limit": 1_001}, [("helperDailyLimit", "must be from 1 to 1000")]),
        ({"ends_at": START}, [("endsAt", "must come after startsAt")]),
    ],
)
def test_each_rule_names_its_field(changed, expected):
    assert problems(**changed) == expected
