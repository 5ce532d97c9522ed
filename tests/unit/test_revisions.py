"""resolvers.revisions.revised: read, check, write unless changed meanwhile, refusals in words."""

from __future__ import annotations

from resolvers.revisions import TRIES, revised
from resolvers.user_errors import user_error


class Changed(Exception):
    pass


class Refused(Exception):
    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        super().__init__("refused")
        self.problems = problems


def store(value: str | None, *, changes: int = 0, refuse: list[tuple[str, str, str]] | None = None,
          check_errors: list | None = None):
    """load/check/write over one stored value that another writer changes ``changes`` times first."""
    seen = {"loads": 0, "writes": 0}

    async def load() -> str | None:
        seen["loads"] += 1
        return value if value is None else f"{value}@{seen['loads']}"

    async def check(old: str):
        return (check_errors or []), (None if check_errors else old.upper())

    async def write(old: str, spec: str) -> str | None:
        seen["writes"] += 1
        if refuse:
            raise Refused(refuse)
        if seen["writes"] <= changes:
            raise Changed()
        return spec

    return seen, load, check, write


async def test_a_write_that_lost_a_race_reads_again_and_writes_what_it_read_last():
    seen, *steps = store("t", changes=TRIES - 1)
    assert await revised("template", *steps, Changed, Refused) == (f"T@{TRIES}", [])
    assert seen == {"loads": TRIES, "writes": TRIES}


async def test_losing_every_race_is_an_invalid_state_to_try_again():
    seen, *steps = store("t", changes=TRIES)
    assert await revised("template", *steps, Changed, Refused) == (
        None, [user_error("INVALID_STATE", ["id"], "the template kept changing meanwhile: try again")])
    assert seen["writes"] == TRIES


async def test_nothing_stored_is_not_found():
    _, *steps = store(None)
    assert await revised("campaign", *steps, Changed, Refused) == (
        None, [user_error("NOT_FOUND", ["id"], "no such campaign in this shop")])


async def test_the_checks_faults_and_the_stores_refusals_come_back_as_they_are_and_at_the_input():
    fault = user_error("INVALID", ["input", "title"], "give 1 to 200 characters")
    seen, *steps = store("t", check_errors=[fault])
    assert await revised("template", *steps, Changed, Refused) == (None, [fault])
    assert seen["writes"] == 0
    _, *steps = store("t", refuse=[("totalQuantity", "INVALID", "below the 7 issued")])
    assert await revised("template", *steps, Changed, Refused) == (
        None, [user_error("INVALID", ["input", "totalQuantity"], "below the 7 issued")])
