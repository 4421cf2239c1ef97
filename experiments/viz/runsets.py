"""Finished sweeps and sensitivity studies for the viewer's run-set page (no Solara here).

A run set is any folder with a ``manifest.json`` that :meth:`experiments.store.runset.RunSet.open` accepts
(``lcsim sweep`` / ``lcsim sensitivity`` / ``lcsim robust`` output).  The page picks one, shows its ranking
table (the factor ranking of ``analysis/ranking_<output>.csv``, or for a robustness run set the policies in
rank order per metric) and, where ``lcsim discover`` wrote one, the discovery trajectory and boxes; then a
design point, with that point's factor values and the outputs of each of its replicates next to the spread
of all points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.store.runset import MANIFEST_FILE, RunSet, RunSetError

#: Outputs shown in the replicate table when the study names none.
MAIN_OUTPUTS = 6
#: How deep below the results folder run sets are looked for (results/<name>/ is depth 1).
MAX_DEPTH = 3


@dataclass(frozen=True)
class RunSetEntry:
    """One run set found under the results folder."""

    path: Path
    label: str  # path relative to the results folder
    kind: str  # "sweep" or "sensitivity"
    name: str
    points: int
    replicates: int

    @property
    def title(self) -> str:
        return f"{self.label} ({self.kind}, {self.points} points x {self.replicates} replicates)"


def find_runsets(root: Path, max_depth: int = MAX_DEPTH) -> list[RunSetEntry]:
    """Every run set at most ``max_depth`` folders below ``root``, sorted by path.  Other folders with a
    manifest (``lcsim run``, ``lcsim compare`` output) and half-written staging folders are skipped."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for depth in range(1, max_depth + 1):
        for manifest in sorted(root.glob("/".join(["*"] * depth) + f"/{MANIFEST_FILE}")):
            folder = manifest.parent
            relative = folder.relative_to(root)
            if any(part.startswith(".") for part in relative.parts):
                continue
            try:
                runset = RunSet.open(folder)
                entry = RunSetEntry(folder, relative.as_posix(), str(runset.manifest.get("kind", "run set")),
                                    str(runset.manifest.get("name", folder.name)), runset.n_points,
                                    runset.replicates)
            except (RunSetError, KeyError, TypeError, ValueError):
                continue
            found.append(entry)
    return sorted(found, key=lambda entry: entry.label)


def factor_names(runset: RunSet) -> list[str]:
    """The run set's factors, in design order."""
    return [factor["name"] for factor in runset.manifest.get("factors", [])]


def output_names(runset: RunSet) -> list[str]:
    """The outputs the study was about (its ``outputs``), then every other output the model reported."""
    model_outputs = list(runset.manifest.get("model", {}).get("outputs", []))
    study_outputs = list((runset.manifest.get("study") or {}).get("outputs") or [])
    return list(dict.fromkeys([*study_outputs, *model_outputs]))


@dataclass
class RunSetData:
    """A run set's design and finished runs, read once for the page."""

    runset: RunSet
    design: pd.DataFrame
    runs: pd.DataFrame
    factors: list[str]
    outputs: list[str]
    failures: list[dict[str, Any]]
    #: The outputs the study was about (its ``outputs``; else the first few): the replicate table's columns.
    main_outputs: list[str] = field(default_factory=list)

    @property
    def n_points(self) -> int:
        return len(self.design)


def load_runset(path: Path) -> RunSetData:
    """Open a run set and read its design, its finished runs and its failures (RunSetError if unusable)."""
    runset = RunSet.open(Path(path))
    factors = factor_names(runset)
    outputs = output_names(runset)
    runs = runset.read_runs()
    outputs = [name for name in outputs if name in runs.columns] or [
        column for column in runs.columns if column not in {"run_id", "point", "replicate", "spawn_key", *factors}
    ]
    study_outputs = [name for name in (runset.manifest.get("study") or {}).get("outputs") or [] if name in outputs]
    return RunSetData(runset, runset.design(), runs, factors, outputs, runset.failures(),
                      study_outputs or outputs[:MAIN_OUTPUTS])


def ranking_tables(runset: RunSet) -> dict[str, pd.DataFrame]:
    """Output -> the run set's ranking table: policies per metric for a robustness run set
    (``robustness/robustness.csv``), else the factor ranking of ``analysis/ranking_<output>.csv`` (the
    replicate-variance rankings ``<output>__var`` left out).  Empty if nothing was analysed yet."""
    robust = runset.path / "robustness" / "robustness.csv"
    if robust.is_file():
        from experiments.analysis.robustness import ranking_table

        table = pd.read_csv(robust)
        return {output: ranking_table(table, output) for output in dict.fromkeys(table["output"])}
    tables = {}
    for path in sorted((runset.path / "analysis").glob("ranking_*.csv")):
        output = path.stem.removeprefix("ranking_")
        if not output.endswith("__var"):
            tables[output] = pd.read_csv(path)
    return tables


def discoveries(runset: RunSet) -> dict[str, dict[str, Any]]:
    """Output -> what ``lcsim discover`` wrote for it: ``trajectory`` and ``limits`` tables, the condition
    and the figure files present (``figures``: name -> path)."""
    from experiments.analysis.runset_discovery import DISCOVERY_DIR, FIGURES, read_discovery

    found: dict[str, dict[str, Any]] = {}
    for output, tables in read_discovery(runset.path).items():
        folder = runset.path / DISCOVERY_DIR / output
        manifest = folder / MANIFEST_FILE
        condition = ""
        if manifest.is_file():
            import json

            condition = str(json.loads(manifest.read_text(encoding="utf-8")).get("condition", ""))
        figures = {name: folder / name for name in FIGURES if (folder / name).is_file()}
        found[output] = {**tables, "condition": condition, "figures": figures}
    return found


def point_factors(data: RunSetData, point: int) -> dict[str, Any]:
    """The factor values of one design point, as the model got them."""
    row = data.design.loc[data.design["point"] == point]
    if row.empty:
        raise KeyError(f"point {point}: not in the design; allowed: 0 to {data.n_points - 1}")
    row = row.iloc[0]
    return {name: row[name].item() if hasattr(row[name], "item") else row[name] for name in data.factors}


def study_ranking(data: RunSetData, output: str) -> pd.DataFrame | None:
    """The study's ranked factor table for ``output`` (``analysis/ranking_<output>.csv``, written by the
    analysis of ``lcsim sweep``/``sensitivity``), or None when the run set has not been analysed."""
    path = data.runset.path / "analysis" / f"ranking_{output}.csv"
    return pd.read_csv(path) if path.is_file() else None


def study_figures(data: RunSetData, output: str) -> list[Path]:
    """The analysis figures of ``output`` (Sobol', Morris, PAWN, convergence, heatmaps), by name."""
    folder = data.runset.path / "analysis"
    return sorted(folder.glob(f"*_{output}.png")) if folder.is_dir() else []


def factor_values(data: RunSetData) -> dict[str, list[float]]:
    """Each factor's distinct values over the design, sorted (a grid's levels; every sample of an LHS)."""
    return {name: sorted(pd.unique(data.design[name].astype(float))) for name in data.factors}


def nearest_point(data: RunSetData, values: dict[str, float]) -> int:
    """The design point closest to the given factor values (each factor scaled to its range in the design;
    factors not given do not count); ties go to the lowest point number."""
    design = data.design.sort_values("point")
    distance = np.zeros(len(design))
    for name, value in values.items():
        column = design[name].to_numpy(dtype=float)
        span = float(column.max() - column.min()) or 1.0
        distance += ((column - float(value)) / span) ** 2
    return int(design["point"].to_numpy()[int(np.argmin(distance))])


def point_replicates(data: RunSetData, point: int, outputs: list[str] | None = None) -> pd.DataFrame:
    """The finished replicates of one design point: replicate, run id, seed key and the outputs (all of them
    unless ``outputs`` names some)."""
    if not 0 <= point < data.n_points:
        raise KeyError(f"point {point}: not in the design; allowed: 0 to {data.n_points - 1}")
    outputs = data.outputs if outputs is None else outputs
    rows = data.runs.loc[data.runs["point"] == point, ["replicate", "run_id", "spawn_key", *outputs]]
    return rows.sort_values("replicate", kind="stable").reset_index(drop=True)


def point_failures(data: RunSetData, point: int) -> list[dict[str, Any]]:
    """Runs of the point that failed and have no result."""
    return [record for record in data.failures if int(record.get("point", -1)) == point]


def point_means(data: RunSetData, output: str) -> pd.Series:
    """Mean of ``output`` over the finished replicates of every point (NaN where none finished)."""
    means = data.runs.groupby("point")[output].mean()
    return means.reindex(range(data.n_points))


def replicate_summary(values: pd.Series) -> dict[str, float]:
    """n, mean, standard deviation and the half-width of the 95% t interval of the mean (NaNs dropped)."""
    values = pd.Series(values, dtype=float).dropna()
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": float("nan"), "sd": float("nan"), "ci95": float("nan")}
    mean = float(values.mean())
    if n == 1:
        return {"n": 1, "mean": mean, "sd": float("nan"), "ci95": float("nan")}
    from scipy import stats

    sd = float(values.std(ddof=1))
    return {"n": n, "mean": mean, "sd": sd, "ci95": float(stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n))}
