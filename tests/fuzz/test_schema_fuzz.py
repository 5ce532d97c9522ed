"""Operations generated over the served schema, sent with every kind of caller.

hypothesis-graphql writes documents from the SDL: valid ones (every root
field, arguments of every shape the types allow, our scalars at and past their
bounds) and, in its negative mode, ones with one violation each. Each goes
with a publishable or a secret key of either demo shop, or none, and with or
without a shopper token. Whatever comes back must be a served answer: no 5xx,
JSON, every error coded, never INTERNAL_SERVER_ERROR.
"""

from __future__ import annotations

import os

import graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema

from gateway.graphql import build_schema
from tests.fuzz.conftest import EXAMPLES, KEYS, World, assert_healthy, assert_served

SDL = build_schema().as_str()
LONG_BOUND = 2**63


def _string(values: st.SearchStrategy[str]) -> st.SearchStrategy[graphql.StringValueNode]:
    return values.map(lambda v: graphql.StringValueNode(value=v))


TIMES = st.one_of(
    st.sampled_from([
        "2026-06-18T09:00:00+08:00", "2027-01-01T00:00:00Z", "1970-01-01T00:00:00+00:00", "2099-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59.999999+00:00",
        "2026-06-18T09:00:00", "2026-06-18T09:00:00+23:59", "2026-02-30T00:00:00+08:00", "", "soon",
    ]),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.text(max_size=40),
)
DECIMALS = st.one_of(
    st.sampled_from(["0", "0.01", "1.005", "-1", "118000", "118000.00", "NaN", "Infinity", "-0", "1e999999",
                     "99999999999999999999999.99", "1E+2", " 5 ", "", "abc"]),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
LONGS = st.one_of(
    st.integers(min_value=-LONG_BOUND, max_value=LONG_BOUND - 1),
    st.sampled_from([LONG_BOUND, -LONG_BOUND - 1, 10**40]),
).map(lambda n: graphql.IntValueNode(value=str(n)))
SCALARS = {"Long": LONGS, "DateTime": _string(TIMES), "Decimal": _string(DECIMALS), "JSON": _string(st.text(max_size=20))}

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="JIMU_FUZZ_EXAMPLES" not in os.environ,  # CI's bounded run is the same every time
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _send(world: World, document: str, key: str | None, signed_in: bool) -> None:
    headers = {}
    if key is not None:
        headers["X-Jimu-Key"] = key
        if signed_in:
            headers["Authorization"] = f"Bearer {world.tokens[key]}"
    answer = world.send("POST", "/graphql", headers=headers, json={"query": document})
    assert_served(answer, (document, key, signed_in))


CALLERS = st.tuples(st.sampled_from((*KEYS, None)), st.booleans())


@FUZZ
@given(document=from_schema(SDL, custom_scalars=SCALARS), caller=CALLERS)
def test_generated_operations_are_served(world: World, document: str, caller: tuple[str | None, bool]) -> None:
    _send(world, document, *caller)


@FUZZ
@given(document=from_schema(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE), caller=CALLERS)
def test_operations_with_a_violation_get_coded_errors(world: World, document: str, caller: tuple[str | None, bool]) -> None:
    _send(world, document, *caller)


def test_the_server_is_healthy_after_the_fuzz(world: World) -> None:
    assert_healthy(world)
