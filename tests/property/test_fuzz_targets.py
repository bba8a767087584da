"""The fuzz targets of tests/fuzz/targets.py (the strict JSON reader, the compact JWS parser,
the did:web document path, the status-list decoder) under hypothesis: each seed, and random
bytes mutated from them, return or raise only the errors the parser documents. ``make fuzz``
runs the same targets for longer under atheris, and these under the fuzz profile."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.targets import TARGETS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_SEEDS = {name: target.seeds() for name, target in TARGETS.items()}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_seeds_reach_both_outcomes(name):
    """Some seeds are accepted, through to the end of the parser, and some refused: a target
    that refused everything (a fetcher stub that no longer fits, say) would fuzz nothing."""
    outcomes = {TARGETS[name].one_input(seed) for seed in _SEEDS[name]}
    assert outcomes == {True, False}


def _mutated(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """A seed with a slice replaced by random bytes, or random bytes alone."""
    def mutate(seed: bytes, start: int, length: int, insert: bytes) -> bytes:
        start = min(start, len(seed))
        return seed[:start] + insert + seed[start + length:]

    return st.one_of(
        st.binary(max_size=300),
        st.builds(mutate, st.sampled_from(seeds), st.integers(0, 400), st.integers(0, 8), st.binary(max_size=8)),
    )


@pytest.mark.parametrize("name", sorted(TARGETS))
@SETTINGS
@given(data=st.data())
def test_random_inputs_raise_only_documented_errors(name, data):
    target = TARGETS[name]
    target.one_input(data.draw(_mutated(_SEEDS[name]), label="input"))

