"""The public Python API of lcsim: what notebooks and scripts import (``from experiments import api``).

Everything a notebook needs is reachable from here -- studies and scenario ensembles computed once and
then reopened (the functions below), the readers of stored results (:class:`RunSet` for sweep and
sensitivity run sets, :func:`read_run_tables` for ``lcsim run`` folders), and the comparison,
validation and threshold helpers the notebooks show.  Other modules of ``experiments`` are internal:
their names may move; the names in ``__all__`` here are kept.

The notebooks in ``notebooks/`` hold no model or analysis logic of their own: they call the functions
here, which call the same code as the command line (``lcsim run``/``compare``/``validate`` and
``lcsim sweep``/``sensitivity``/``resume``), and they read results back from the result store.

* :func:`study_config` -- a shipped sweep or sensitivity file (``configs/...``) with some fields changed
  (sizes, factors, outputs), validated like ``lcsim sweep``/``sensitivity`` validate the file.
* :func:`open_or_run_study` -- the run set of a study in ``out_dir``: created and run by
  :func:`experiments.execution.study.run_study` if absent; if present, reopened and only what is missing is run
  (:func:`experiments.execution.study.resume_study`, e.g. after an interrupted session); then analysed.
* :func:`run_ensembles` -- the replicate ensembles of scenario files, each stored as an ``lcsim run``
  result folder (``runs``/``pilots``/``series`` Parquet, summary, manifest), read back if present.
  Every scenario uses replicate seeds ``SeedSequence(seed).spawn(R)`` -- the seeds of ``lcsim run`` and
  ``lcsim compare`` -- so ensembles of different scenarios are paired by seed (common random numbers).

**Folder names carry a key of what determines the runs** (for a study: model, factors and ranges, fixed
parameters, outputs, replicates, seed, seeding, design; for an ensemble: every parameter, replicates,
seed): ``<name>-<key>``.  Changing a notebook parameter such as the number of replicates therefore
starts a new folder instead of mixing incompatible runs, and changing it back reuses the old one.
``reuse=False`` deletes the matching folder (only one this module wrote) and computes it again.
Results computed by an older version of the code are reused with a warning naming both commits.

Relative paths (configs, output folders) are taken from the project root (:func:`project_root`), so a
notebook gives the same answer whether it is started from ``notebooks/`` or from the repository.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.compare import ScenarioResult
from experiments.config.scenario import Scenario, load_scenario
from experiments.config.reading import parse_toml
from experiments.store.runset import RunSet, RunSetError
from experiments.store.atomic import atomic_write_json
from experiments.execution.study import StudyResult, resume_study, run_study
from experiments.config.study import StudyConfig, study_from_dict
from sim import RunOutcome

Say = Callable[[str], None]

#: The fields of a study that determine its runs (the rest -- analysis settings, convergence criteria,
#: description, comparisons -- may differ between sessions that share a run set).
RUN_FIELDS = ("model", "factors", "base", "outputs", "replicates", "seed", "common_random_numbers", "design")

COMMAND = "experiments.api (notebook or script)"


# --------------------------------------------------------------------------------------- paths


def project_root(start: str | Path | None = None) -> Path:
    """The repository folder (it holds ``pyproject.toml`` and ``configs/scenarios``): the nearest such
    folder at or above ``start`` (default: the working directory), else the folder of this package."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "configs" / "scenarios").is_dir():
            return folder
    return Path(__file__).resolve().parents[1]


def project_path(path: str | Path, root: str | Path | None = None) -> Path:
    """``path`` itself if absolute, else relative to the project root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else Path(root or project_root()) / path


def resolve_workers(backend: Any, workers: int | None) -> int:
    """Workers for a backend (a name or an :class:`experiments.execution.backends.BackendSpec`): 1 for ``serial``;
    otherwise ``workers``, else the spec's, else one per CPU (as the CLI does)."""
    from experiments.execution.replicates import default_workers

    name = getattr(backend, "name", backend)
    if name == "serial":
        return 1
    if workers is None and hasattr(backend, "workers"):
        workers = backend.workers
    if workers is not None and int(workers) < 1:
        raise ValueError(f"workers = {workers}; allowed: None (one per CPU) or an integer >= 1")
    return int(workers) if workers else default_workers()


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=_plain, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# --------------------------------------------------------------------------------------- studies


def study_config(path: str | Path, *, kind: str | None = None, root: str | Path | None = None,
                 **changes: Any) -> StudyConfig:
    """Load a sweep or sensitivity file, change some of its fields, validate it as the CLI would.

    ``changes`` are top-level keys of the file: a table (dict) is merged into the file's table, anything
    else replaces the value, e.g. ``study_config("configs/sensitivity/baseline_morris.toml",
    replicates=2, morris={"trajectories": 4}, analysis={"bootstrap": 200})``.  ``kind`` is
    ``"sweep"`` or ``"sensitivity"`` (default: ``sensitivity`` when the file has a ``method``).  The
    base ``scenario`` and ``compare_with`` folders are taken from the project root when relative.
    Raises :class:`experiments.config.scenario.ConfigError` naming the field, the value and what is allowed.
    """
    root = Path(root) if root is not None else project_root()
    source = project_path(path, root)
    raw = source.read_bytes() if source.is_file() else None
    if raw is None:
        from experiments.config.reading import ConfigError

        raise ConfigError(f"{source}: study file not found; allowed: a sweep or sensitivity .toml file")
    document = parse_toml(source, raw)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(document.get(key), dict):
            document[key] = {**document[key], **value}
        else:
            document[key] = list(value) if isinstance(value, tuple) else value
    if isinstance(document.get("scenario"), str):
        document["scenario"] = str(project_path(document["scenario"], root))
    if isinstance(document.get("compare_with"), list):
        document["compare_with"] = [str(project_path(p, root)) if isinstance(p, str | Path) else p
                                    for p in document["compare_with"]]
    kind = kind or ("sensitivity" if "method" in document else "sweep")
    text = raw.decode("utf-8")
    if changes:
        text += f"\n# changed by experiments.api.study_config: {json.dumps(changes, default=_plain)}\n"
    return study_from_dict(document, kind, source=str(source), sha256=hashlib.sha256(raw).hexdigest(), text=text)


def factor_ranges(config: StudyConfig, names: Iterable[str] | None = None) -> dict[str, list[float]]:
    """``{factor: [low, high]}`` of a study's factors (all, or ``names``) -- for the ``ranges`` of a
    follow-up study on some of them (e.g. Sobol' on the factors a Morris screening ranked highest)."""
    wanted = None if names is None else set(names)
    return {f.name: [f.low, f.high] for f in config.factors if wanted is None or f.name in wanted}


def run_key(config: StudyConfig) -> str:
    """Ten hex digits identifying what determines a study's runs (see :data:`RUN_FIELDS`)."""
    data = config.to_dict()
    return _digest({name: data[name] for name in RUN_FIELDS})


def study_folder(config: StudyConfig, out_dir: str | Path) -> Path:
    """Where :func:`open_or_run_study` keeps a study's run set: ``<out_dir>/<name>-<run key>``."""
    return project_path(out_dir) / f"{config.name}-{run_key(config)}"


def runs_missing(runset: RunSet) -> int:
    """Runs of a run set with neither a result nor a failure record."""
    return runset.n_runs - len(runset.done_run_ids()) - len(runset.failures())


def open_or_run_study(config: StudyConfig, out_dir: str | Path, *, reuse: bool = True, backend: Any = "processes",
                      workers: int | None = None, chunk_size: int | None = None, until_converged: bool = False,
                      max_runs: int | None = None, write: bool = True, say: Say = print) -> StudyResult:
    """The analysed run set of ``config`` in ``out_dir`` (folder :func:`study_folder`).

    Absent: created and run (:func:`experiments.execution.study.run_study`, on ``backend`` -- ``"serial"``,
    ``"processes"``, ``"dask"`` or an :class:`experiments.execution.backends.BackendSpec` -- with ``workers``).
    Present (``reuse``): reopened; only runs that are missing (an interrupted session) are run, through
    :func:`experiments.execution.study.resume_study`, which also continues a convergence loop; a complete run set
    is only read.  ``until_converged`` doubles the design until the convergence criterion of the file
    holds or ``max_runs`` is reached, reusing every run.  The analysis uses the analysis settings of
    ``config`` (which may differ from those stored) and is written to ``analysis/`` when ``write`` -- unless
    the folder already holds the same analysis of the same runs (then the figures are not drawn again).
    """
    from experiments.analysis.studies import analyse_runset, write_analysis

    folder = study_folder(config, out_dir)
    used = resolve_workers(backend, workers)
    started = time.perf_counter()
    if folder.exists() and not reuse:
        RunSet.open(folder)  # refuses a folder that is not a run set: nothing else is ever deleted
        say(f"{config.name}: reuse=False, replacing {folder}")
        shutil.rmtree(folder)
    if folder.exists():
        runset = RunSet.open(folder)
        stored = StudyConfig.from_dict(runset.manifest["study"])
        if run_key(stored) != run_key(config):
            raise RunSetError(f"{folder}: holds a different study than its name says (run key "
                              f"{run_key(stored)}); allowed: delete it or pass reuse=False")
        _warn_if_other_code(runset.manifest, folder, say)
        missing = runs_missing(runset)
        say(f"{config.name}: reopened {folder} ({runset.n_runs - missing} of {runset.n_runs} runs on disk)")
        if missing or until_converged:
            resume_study(folder, backend=backend, workers=used, chunk_size=chunk_size,
                         until_converged=True if until_converged else None, max_runs=max_runs, analyse=False,
                         command=COMMAND, say=say)
    else:
        from experiments.execution.engine import first_stage

        points = len(first_stage(config)[0])
        say(f"{config.name}: {points} design points x {config.replicates} replicates = {points * config.replicates} "
            f"runs on {getattr(backend, 'name', backend)} ({used} worker{'s' if used > 1 else ''}) -> {folder}")
        run_study(config, folder, backend=backend, workers=used, chunk_size=chunk_size,
                  until_converged=until_converged, max_runs=max_runs, analyse=False, command=COMMAND, say=say)
    runset = RunSet.open(folder)
    analysis = analyse_runset(runset, config)
    if write:
        _write_analysis_once(runset, config, analysis, write_analysis)
    result = StudyResult(runset, analysis, failed=len(runset.failures()),
                         converged=analysis.verdict.converged if analysis.verdict is not None else None)
    say(f"{config.name}: {analysis.runs_done} runs analysed ({time.perf_counter() - started:.0f} s)")
    if result.failed:
        say(f"warning: {result.failed} runs failed; see {folder / 'failures'}")
    return result


#: Written beside the analysis: what it was computed from, so that reopening an unchanged run set does not
#: redraw every figure.
ANALYSIS_STATE = "workbench.json"


def _write_analysis_once(runset: RunSet, config: StudyConfig, analysis: Any, write: Callable[..., Any]) -> None:
    """Write the analysis folder unless it already holds this very analysis (same runs, same settings)."""
    from experiments.store.runset import ANALYSIS_DIR

    state = {"run_key": run_key(config), "outputs": list(config.outputs), "analysis": config.analysis,
             "convergence": config.convergence, "compare_with": list(config.compare_with),
             "runs_done": analysis.runs_done, "runs_failed": analysis.runs_failed, "points": analysis.n_points}
    marker = runset.path / ANALYSIS_DIR / ANALYSIS_STATE
    try:
        if json.loads(marker.read_text(encoding="utf-8")) == json.loads(json.dumps(state, default=_plain)):
            return
    except (OSError, json.JSONDecodeError):
        pass
    marker.unlink(missing_ok=True)
    write(runset, analysis)
    atomic_write_json(marker, state)


def _warn_if_other_code(manifest: Mapping[str, Any], folder: Path, say: Say) -> None:
    from experiments.store.manifest import git_state

    commit = git_state()["commit"]
    if manifest.get("git_commit") and commit and manifest["git_commit"] != commit:
        say(f"warning: {folder} was computed by commit {manifest['git_commit'][:12]}, the code is now at "
            f"{commit[:12]}; pass reuse=False to recompute")


# --------------------------------------------------------------------------------------- scenario ensembles


@dataclass
class Ensemble:
    """The replicate ensemble of one scenario, as stored in an ``lcsim run`` result folder."""

    scenario: Scenario
    path: Path
    replicates: int
    seed: int
    runs: pd.DataFrame
    pilots: pd.DataFrame
    series: pd.DataFrame
    reused: bool = False
    _outcomes: list[RunOutcome] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.scenario.name

    def outcomes(self) -> list[RunOutcome]:
        """The runs as :class:`sim.RunOutcome` objects (for :mod:`experiments.analysis.validation` and comparisons)."""
        if self._outcomes is None:
            self._outcomes = outcomes_from_tables(self.runs, self.pilots, self.series)
        return self._outcomes

    def result(self) -> ScenarioResult:
        """The ensemble as :func:`experiments.analysis.compare.run_comparison` returns a scenario: metrics, continuation
        curves and fate shares, one row per replicate."""
        return scenario_result(self.name, self.outcomes())


def outcomes_from_tables(runs: pd.DataFrame, pilots: pd.DataFrame, series: pd.DataFrame) -> list[RunOutcome]:
    """Rebuild each replicate's :class:`sim.RunOutcome` from the three tables of a result folder."""
    from experiments.execution.ensemble import tables_to_outcomes

    return tables_to_outcomes({"runs": runs, "pilots": pilots, "series": series})


def scenario_result(name: str, outcomes: Sequence[RunOutcome]) -> ScenarioResult:
    """A :class:`experiments.analysis.compare.ScenarioResult` from a scenario's outcomes (replicate order)."""
    from experiments.analysis.compare import scenario_result as build

    return build(name, list(outcomes))


def ensemble_key(scenario: Scenario, replicates: int, seed: int) -> str:
    """Ten hex digits identifying an ensemble's runs: every parameter value, replicates, root seed."""
    return _digest({"parameters": scenario.params.model_dump(), "replicates": int(replicates), "seed": int(seed)})


def ensemble_folder(scenario: Scenario, replicates: int, seed: int, out_dir: str | Path) -> Path:
    """Where :func:`run_ensembles` keeps a scenario's ensemble: ``<out_dir>/<name>-<key>``."""
    return project_path(out_dir) / f"{scenario.name}-{ensemble_key(scenario, replicates, seed)}"


def _stored_ensemble(folder: Path, scenario: Scenario, replicates: int, seed: int) -> bool:
    from experiments.store.runfolder import PILOTS_FILE, RUNS_FILE, SERIES_FILE
    from experiments.store.manifest import MANIFEST_FILE

    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    files = all((folder / name).is_file() for name in (RUNS_FILE, PILOTS_FILE, SERIES_FILE))
    return (files and manifest.get("parameters") == json.loads(json.dumps(scenario.params.model_dump()))
            and manifest.get("replicates") == replicates and manifest.get("root_seed") == seed)


def scenario(reference: str | Path, **settings: Any) -> Scenario:
    """A validated scenario, as ``lcsim run`` reads its argument: a scenario file (relative to the project
    root, else the working directory), a shipped name (``"baseline"``), or names joined by ``+``
    (``"our_region+stable_management"``, layered in order); ``settings`` override parameters last, like
    ``--set``.  Raises :class:`experiments.config.reading.ConfigError` naming the field, value and what is
    allowed."""
    return _scenario_of(reference, settings)


def _scenario_of(reference: str | Path, settings: dict[str, Any]) -> Scenario:
    from experiments.config.scenario import scenario_argument

    in_project = project_path(reference)
    return scenario_argument(in_project if in_project.is_file() else reference, settings)


def run_ensembles(scenarios: Iterable[str | Path | Scenario], replicates: int, seed: int, out_dir: str | Path, *,
                  reuse: bool = True, backend: Any = "processes", workers: int | None = None,
                  say: Say = print) -> dict[str, Ensemble]:
    """The replicate ensembles of ``scenarios`` (files, relative to the project root, or loaded scenarios),
    keyed by scenario name in the order given.

    Ensembles already in ``out_dir`` (same parameters, replicates and seed) are read back when ``reuse``;
    the others run together in one pool -- ``backend="serial"`` in this process, any other backend on
    ``workers`` local processes -- and are each written as an ``lcsim run`` result folder (tables,
    summary, manifest; the figures of ``lcsim run`` are left out).  Replicate i of every scenario uses
    ``SeedSequence(seed).spawn(replicates)[i]``, as ``lcsim run`` and ``lcsim compare`` do.
    """
    from experiments.execution.ensemble import ensemble_tables
    from experiments.store.runfolder import build_manifest, read_tables, write_tables
    from experiments.store.atomic import staged_folder
    from experiments.store.manifest import utc_now, write_manifest
    from experiments.analysis.summary import summary_table, write_summary

    loaded = [s if isinstance(s, Scenario) else _scenario_of(s, {}) for s in scenarios]
    names = [s.name for s in loaded]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names {names} repeat; allowed: scenarios with distinct names")
    if replicates < 1:
        raise ValueError(f"replicates = {replicates}; allowed: an integer >= 1")
    found: dict[str, Ensemble] = {}
    pending: list[Scenario] = []
    for scenario in loaded:
        folder = ensemble_folder(scenario, replicates, seed, out_dir)
        if reuse and _stored_ensemble(folder, scenario, replicates, seed):
            frames = read_tables(folder)
            found[scenario.name] = Ensemble(scenario, folder, replicates, seed, frames["runs"], frames["pilots"],
                                            frames["series"], reused=True)
        else:
            pending.append(scenario)
    if found:
        say(f"reopened {len(found)} stored ensemble(s) in {project_path(out_dir)}: {', '.join(found)}")
    if pending:
        used = min(resolve_workers(backend, workers), replicates * len(pending))
        say(f"running {len(pending)} scenario(s) x {replicates} replicates on {used} "
            f"process{'es' if used > 1 else ''}: {', '.join(s.name for s in pending)}")
        started = utc_now()
        clock = time.perf_counter()
        chosen = None if backend == "processes" else backend  # None: local processes, or serial for 1
        computed = ensemble_tables({s.name: s.params for s in pending}, replicates, seed, workers=used,
                                   backend=chosen)
        for scenario in pending:
            frames = computed[scenario.name]
            folder = ensemble_folder(scenario, replicates, seed, out_dir)
            with staged_folder(folder, force=True) as staging:
                write_tables(staging, frames)
                write_summary(staging, summary_table(frames["runs"]), replicates)
                write_manifest(staging, build_manifest(
                    scenario_name=scenario.name, description=scenario.description, config_path=scenario.path,
                    config_sha256=scenario.sha256, params=scenario.params, overrides=scenario.overrides,
                    root_seed=seed, replicates=replicates, workers=used, command=COMMAND,
                    reproduce=f"lcsim run {scenario.path} --replicates {replicates} --seed {seed} --out {folder}",
                    started_utc=started, finished_utc=utc_now()))
            found[scenario.name] = Ensemble(scenario, folder, replicates, seed, frames["runs"], frames["pilots"],
                                            frames["series"])
        say(f"{len(pending) * replicates} runs in {time.perf_counter() - clock:.0f} s")
    return {name: found[name] for name in names}


# --------------------------------------------------------------------------------------- tables for reading


def policy_scenario_names(folder: str | Path = "configs/scenarios") -> list[str]:
    """Names of the policy (and stress) scenario files in ``folder``: every ``*.toml`` except the baseline and
    the documented cases (:data:`experiments.analysis.validation.CASES`), sorted."""
    from experiments.analysis.validation import CASES

    names = sorted(path.stem for path in project_path(folder).glob("*.toml"))
    return [name for name in names if name != "baseline" and name not in CASES]


def case_outcomes(ensembles: Mapping[str, Ensemble], column: str = "fate") -> pd.DataFrame:
    """What became of each case's documented pilot (the model's first pilot) over the replicates.

    ``column`` is a pilot field: ``fate`` (phase at the horizon), ``first_decision`` (what followed the
    first run; '' = not decided yet) or ``provider``.  One row per case and value: replicates, share and its
    95% Wilson interval, most frequent value first.
    """
    from experiments.analysis.validation import first_pilots, proportion

    rows = []
    for name, ensemble in ensembles.items():
        values = first_pilots(ensemble.outcomes())[column].replace("", "(not decided)")
        n = len(values)
        for value, count in values.value_counts().items():
            share, low, high = proportion(int(count), n)
            rows.append({"case": name, column: value, "replicates": int(count), "share": share, "low": low,
                         "high": high})
    return pd.DataFrame(rows, columns=["case", column, "replicates", "share", "low", "high"])


def comparison_wide(table: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """A :func:`experiments.analysis.compare.comparison_table` reshaped for reading: one row per scenario, per metric
    the mean with its 95% interval and the paired difference to the first scenario with its interval
    (columns ``(metric, mean|low|high|diff|diff_low|diff_high)``)."""
    parts = {}
    for metric in metrics:
        rows = table[table["metric"] == metric].set_index("scenario")
        parts[metric] = rows[["mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high"]].rename(
            columns={"ci_low": "low", "ci_high": "high"})
    return pd.concat(parts, axis=1)


def output_ranking(result: StudyResult | Any, output: str, statistic: str = "mean") -> Any:
    """The :class:`experiments.analysis.sensitivity.OutputAnalysis` of ``output`` in a study result (or analysis)."""
    analysis = getattr(result, "analysis", None) or result
    for item in analysis.outputs:
        if item.output == output and item.statistic == statistic:
            return item
    raise KeyError(f"{output} ({statistic}) is not analysed; allowed: "
                   f"{', '.join(sorted({o.output for o in analysis.outputs}))}")


def combined_ranking(screening: StudyResult, detailed: StudyResult | None, output: str) -> pd.DataFrame:
    """One table of every screened factor: its Morris mu* and sigma (with 95% half-widths) and, for the
    factors of the detailed (Sobol') study, ST and S1 with half-widths; ranked by ST where there is one,
    then by mu*.  ``unit`` and ``description`` come from the model's parameter table."""
    from sim import parameter_table

    morris = output_ranking(screening, output).ranking
    frame = pd.DataFrame({"morris_rank": morris["rank"], "mu_star": morris["mu_star"],
                          "mu_star_conf": morris["mu_star_conf"], "sigma": morris["sigma"],
                          "sigma_conf": morris["sigma_conf"]})
    columns = ["sobol_rank", "ST", "ST_conf", "S1", "S1_conf"]
    if detailed is not None:
        sobol = output_ranking(detailed, output).ranking
        extra = pd.DataFrame({"sobol_rank": sobol["rank"], "ST": sobol["ST"], "ST_conf": sobol["ST_conf"],
                              "S1": sobol["S1"], "S1_conf": sobol["S1_conf"]})
        frame = frame.join(extra, how="outer")
    else:
        for column in columns:
            frame[column] = np.nan
    info = {row.name: row for row in parameter_table()}
    frame["unit"] = [info[f].unit if f in info else "" for f in frame.index]
    frame["description"] = [info[f].description if f in info else "" for f in frame.index]
    frame = frame.sort_values(["ST", "mu_star"], ascending=[False, False], na_position="last")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame.index.name = "factor"
    return frame


# --------------------------------------------------------------------------------------- key results


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if value is pd.NA or value is pd.NaT:
        return None
    value = value.item() if isinstance(value, np.generic) else value  # numpy scalar -> Python
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_key_results(results: Mapping[str, Any], out_dir: str | Path, name: str = "key_results.json") -> Path:
    """Write a notebook's key numbers as JSON (NaN and infinities as null) into ``out_dir``; returns the path."""
    folder = project_path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    atomic_write_json(path, _json_ready(results))
    return path


# --------------------------------------------------------------------------------------- re-exported API
# Readers of stored results and the comparison / validation / threshold helpers shown in the notebooks,
# so that notebooks and scripts need this module only.
from experiments.analysis.compare import comparison_table, pairwise_table, ranking  # noqa: E402
from experiments.analysis.thresholds import cell_grid, crossing_thresholds, plot_threshold_map  # noqa: E402
from experiments.analysis.validation import CASES, check_cases, checks_frame, first_pilots  # noqa: E402
from experiments.plots.compare import plot_continuation_curves, plot_fates_by_scenario  # noqa: E402
from experiments.plots.figures import save_figure  # noqa: E402
from experiments.plots.scenario import plot_community_radar, plot_fade_timing, plot_fates, plot_phases  # noqa: E402
from experiments.store.runfolder import MONTH_FIELDS  # noqa: E402
from experiments.store.runfolder import read_tables as read_run_tables  # noqa: E402

# Scenario discovery and robustness (notebook 4; `lcsim discover`, `lcsim robust`).
from experiments.analysis.discovery import discover, limits_table, trajectory_table  # noqa: E402
from experiments.analysis.robustness import ranking_table, robustness  # noqa: E402
from experiments.analysis.runset_discovery import discover_runset, read_discovery  # noqa: E402
from experiments.execution.robust import RobustStudy, open_or_run_robust  # noqa: E402
from experiments.models.planted_box import PLANTED_BOX, planted_box_tables, policy_future_tables  # noqa: E402
from experiments.plots.discovery import (  # noqa: E402
    plot_box_limits,
    plot_pairwise,
    plot_policy_cdf,
    plot_regret,
    plot_trajectory,
)


def robust_config(path: str | Path, *, root: str | Path | None = None, **changes: Any):
    """A robustness file (``configs/robust/...``) with some fields changed (e.g. ``futures=8, replicates=2``),
    scenario paths from the project root, validated as ``lcsim robust`` validates it
    (:func:`experiments.config.robust.robust_config`)."""
    from experiments.config.robust import robust_config as load

    return load(path, root=Path(root) if root is not None else project_root(), **changes)


__all__ = [
    "CASES",
    "RunSet",
    "RunSetError",
    "cell_grid",
    "check_cases",
    "checks_frame",
    "comparison_table",
    "pairwise_table",
    "ranking",
    "scenario",
    "crossing_thresholds",
    "first_pilots",
    "plot_community_radar",
    "plot_continuation_curves",
    "plot_fade_timing",
    "plot_fates",
    "plot_phases",
    "save_figure",
    "plot_fates_by_scenario",
    "plot_threshold_map",
    "read_run_tables",
    "COMMAND",
    "case_outcomes",
    "combined_ranking",
    "comparison_wide",
    "Ensemble",
    "RUN_FIELDS",
    "ensemble_folder",
    "ensemble_key",
    "factor_ranges",
    "open_or_run_study",
    "output_ranking",
    "outcomes_from_tables",
    "policy_scenario_names",
    "project_path",
    "project_root",
    "resolve_workers",
    "run_ensembles",
    "run_key",
    "runs_missing",
    "scenario_result",
    "study_config",
    "study_folder",
    "write_key_results",
]

__all__ += [
    "PLANTED_BOX",
    "RobustStudy",
    "discover",
    "discover_runset",
    "limits_table",
    "open_or_run_robust",
    "planted_box_tables",
    "plot_box_limits",
    "plot_pairwise",
    "plot_policy_cdf",
    "plot_regret",
    "plot_trajectory",
    "policy_future_tables",
    "ranking_table",
    "read_discovery",
    "robust_config",
    "robustness",
    "trajectory_table",
]
