"""The output folder of ``lcsim run``: Parquet tables plus a JSON manifest, written all or nothing.

Layout of a finished folder::

    runs.parquet     one row per replicate: replicate, root_seed, spawn_key, every summary scalar
    pilots.parquet   one row per pilot per replicate: replicate, every pilot field
    series.parquet   tidy monthly series: replicate, month (0 = first September), one column per series
    manifest.json    provenance: config file and hash, parameters, seeds, versions, git state, command, times
    summary.csv/.md  and *.png are added by the caller inside the same staging folder

``lcsim run`` builds the folder from its run set (:mod:`experiments.store.ensemble`: the runs stream to Parquet
parts, resumable); the tables are written here once every run is on disk.  The in-memory helpers
(:func:`tables`) turn a list of outcomes into the same tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from numpy.random import SeedSequence

from sim import PILOT_FIELDS, SERIES_FIELDS, SUMMARY_FIELDS, Params, RunOutcome
from experiments.designs.seeds import spawn_key_text
from experiments.store.manifest import provenance

RUNS_FILE = "runs.parquet"
PILOTS_FILE = "pilots.parquet"
SERIES_FILE = "series.parquet"


# --------------------------------------------------------------------------------------- tables


def runs_frame(outcomes: Sequence[RunOutcome], root_seed: int, seeds: Sequence[SeedSequence]) -> pd.DataFrame:
    """One row per replicate: identifiers, then the summary scalars in SUMMARY_FIELDS order (float64)."""
    rows = []
    for index, (outcome, seed) in enumerate(zip(outcomes, seeds, strict=True)):
        row: dict[str, Any] = {"replicate": index, "root_seed": root_seed, "spawn_key": spawn_key_text(seed)}
        row.update({name: float(outcome.summary[name]) for name in SUMMARY_FIELDS})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["replicate", "root_seed", "spawn_key", *SUMMARY_FIELDS])
    return frame.astype({"replicate": "int64", "root_seed": "int64", **{name: "float64" for name in SUMMARY_FIELDS}})


#: Pilot fields that hold a month or "never" (the model's -1); stored as nullable integers with a missing
#: value for "never", so that a mean or a difference never silently includes -1.
MONTH_FIELDS = ("first_run_month", "fade_month", "subsidy_end_month", "funding_end_month")


def pilots_frame(outcomes: Sequence[RunOutcome]) -> pd.DataFrame:
    """One row per pilot per replicate, columns ``replicate`` and then PILOT_FIELDS in order; the
    :data:`MONTH_FIELDS` are nullable integers (``Int64``), missing where the model says -1 (never)."""
    return pilots_table([{"replicate": index, **pilot} for index, outcome in enumerate(outcomes)
                         for pilot in outcome.pilots])


def pilots_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The pilots table from records (``replicate`` plus the pilot fields, months as the model reports them)."""
    frame = pd.DataFrame(list(rows), columns=["replicate", *PILOT_FIELDS])
    for name in MONTH_FIELDS:
        months = pd.to_numeric(frame[name]).astype("Int64")
        frame[name] = months.where(months >= 0, pd.NA)
    return frame


def series_frame(outcomes: Sequence[RunOutcome]) -> pd.DataFrame:
    """Tidy monthly series: one row per (replicate, month), one float column per SERIES_FIELDS entry."""
    frames = []
    for index, outcome in enumerate(outcomes):
        months = len(next(iter(outcome.series.values()))) if outcome.series else 0
        data: dict[str, Any] = {"replicate": [index] * months, "month": list(range(months))}
        data.update({name: pd.array(outcome.series[name], dtype="float64") for name in SERIES_FIELDS})
        frames.append(pd.DataFrame(data))
    frame = pd.concat(frames, ignore_index=True)
    return frame.astype({"replicate": "int64", "month": "int64"})


def tables(
    outcomes: Sequence[RunOutcome], root_seed: int, seeds: Sequence[SeedSequence]
) -> dict[str, pd.DataFrame]:
    """The three result tables of a replicate ensemble: keys ``runs``, ``pilots``, ``series``."""
    return {
        "runs": runs_frame(outcomes, root_seed, seeds),
        "pilots": pilots_frame(outcomes),
        "series": series_frame(outcomes),
    }


def write_tables(folder: Path, frames: dict[str, pd.DataFrame]) -> None:
    """Write the ``runs``, ``pilots`` and ``series`` tables as Parquet files into ``folder``."""
    folder = Path(folder)
    frames["runs"].to_parquet(folder / RUNS_FILE, index=False)
    frames["pilots"].to_parquet(folder / PILOTS_FILE, index=False)
    frames["series"].to_parquet(folder / SERIES_FILE, index=False)


def read_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """Read back a result folder's tables: keys ``runs``, ``pilots``, ``series``."""
    folder = Path(folder)
    return {
        "runs": pd.read_parquet(folder / RUNS_FILE),
        "pilots": pd.read_parquet(folder / PILOTS_FILE),
        "series": pd.read_parquet(folder / SERIES_FILE),
    }


# --------------------------------------------------------------------------------------- manifest


# --------------------------------------------------------------------------------------- the folder


def build_manifest(
    *,
    scenario_name: str,
    description: str,
    config_path: Path | None,
    config_sha256: str | None,
    params: Params,
    overrides: dict[str, Any],
    root_seed: int,
    replicates: int,
    workers: int,
    command: str,
    reproduce: str,
    started_utc: str,
    finished_utc: str,
    settings: dict[str, Any] | None = None,
    extends: list[str] | None = None,
    backend: str | None = None,
) -> dict[str, Any]:
    """Everything needed to reproduce and trace a result folder (JSON-serialisable)."""
    return {
        "scenario": scenario_name,
        "description": description,
        "config_path": str(config_path) if config_path is not None else None,
        "config_sha256": config_sha256,
        "parameters": params.model_dump(),
        "overrides": overrides,
        "extends": extends or [],
        "settings": settings or {},
        "root_seed": root_seed,
        "replicates": replicates,
        "seeding": "replicate i uses numpy SeedSequence(root_seed).spawn(replicates)[i]",
        "workers": workers,
        "backend": backend,
        **provenance(),
        "command": command,
        "reproduce": reproduce,
        "started_utc": started_utc,
        "finished_utc": finished_utc,
        "files": {
            RUNS_FILE: "one row per replicate: summary scalars",
            PILOTS_FILE: "one row per pilot per replicate",
            SERIES_FILE: "monthly series, one row per replicate and month",
        },
    }
