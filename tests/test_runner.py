"""Runner: seeds, the pure unit of work, and replicate order whatever the process pool does."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from numpy.random import SeedSequence

from experiments.execution.replicates import check_outcome, chunk_size_for, run_one, run_replicate, run_replicates
from experiments.designs.seeds import replicate_seeds
from sim import SUMMARY_FIELDS, Params, RunOutcome, run_model

SMALL = Params(horizon_months=24)


def slow_first_model(params: Params, seed: SeedSequence) -> RunOutcome:
    """The real model, but replicate 0 finishes last: a pool returning results in completion order
    (instead of replicate order) would be caught."""
    if seed.spawn_key[-1] == 0:
        time.sleep(1.0)
    return run_model(params, seed)


def test_replicate_seeds_are_spawned_children_of_the_root() -> None:
    seeds = replicate_seeds(7, 3)
    expected = SeedSequence(7).spawn(3)
    assert [s.spawn_key for s in seeds] == [(0,), (1,), (2,)]
    for got, want in zip(seeds, expected, strict=True):
        assert np.array_equal(got.generate_state(4), want.generate_state(4))
    assert not np.array_equal(seeds[0].generate_state(4), seeds[1].generate_state(4))


def test_run_one_is_pure_and_returns_every_summary_scalar() -> None:
    first = run_one({"horizon_months": 24}, 3)
    again = run_one(SMALL, SeedSequence(3))
    assert list(first) == list(SUMMARY_FIELDS)
    assert all(isinstance(v, float) for v in first.values())
    np.testing.assert_equal(first, again)  # NaN-aware equality
    other = run_one(SMALL, 4)
    assert first != other


def test_processes_return_results_in_replicate_order() -> None:
    serial = run_replicates(SMALL, 21, 4, workers=1)
    parallel = run_replicates(SMALL, 21, 4, workers=2, chunk_size=1, model=slow_first_model)
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_equal(a.summary, b.summary)
        assert pd.DataFrame(a.pilots).equals(pd.DataFrame(b.pilots))  # NaN-aware
        for name in a.series:
            np.testing.assert_array_equal(a.series[name], b.series[name])


def test_progress_callback_counts_every_replicate() -> None:
    done: list[int] = []
    run_replicates(SMALL, 1, 3, workers=1, on_done=done.append)
    assert sum(done) == 3


def test_chunks_amortise_but_balance() -> None:
    assert chunk_size_for(100, 2) == 13  # about four chunks per worker
    assert chunk_size_for(3, 8) == 1


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="replicates"):
        run_replicates(SMALL, 1, 0)
    with pytest.raises(ValueError, match="workers"):
        run_replicates(SMALL, 1, 1, workers=0)


def test_contract_violations_name_the_field() -> None:
    good = run_replicate(SMALL, SeedSequence(1))
    check_outcome(good, SMALL)

    missing = RunOutcome(summary={k: v for k, v in good.summary.items() if k != "faded_share"},
                         pilots=good.pilots, series=good.series)
    with pytest.raises(ValueError, match="faded_share"):
        check_outcome(missing, SMALL)

    short = RunOutcome(summary=good.summary, pilots=good.pilots,
                       series={**good.series, "embedding": good.series["embedding"][:-1]})
    with pytest.raises(ValueError, match="embedding"):
        check_outcome(short, SMALL)

    if good.pilots:
        broken = [{k: v for k, v in good.pilots[0].items() if k != "fate"}, *good.pilots[1:]]
        with pytest.raises(ValueError, match="fate"):
            check_outcome(RunOutcome(summary=good.summary, pilots=broken, series=good.series), SMALL)
