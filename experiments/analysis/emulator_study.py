"""``method = "emulator"`` in the pipeline: from a run set's replicates to rankings, Q^2 and convergence.

Per analysed output (the statistics are in :mod:`experiments.analysis.emulator`):

1. the replicate mean ``ybar`` and the noise of that mean ``s2 / R`` at every design point (points with
   fewer than two defined replicate values are left out of the fit and counted);
2. the surrogate (``[emulator] surrogate``) fitted to all points; its k-fold cross-validated Q^2 against the
   held-out means, raw and with the known noise removed.  For the GP the folds keep the hyperparameters
   (and warps) of the full fit by default (one optimisation per output instead of ``folds + 1``;
   optimistic, as any cross-validation with fixed hyperparameters: by about 0.05 on the all-factors
   design), or with ``cross_validation = "nested"`` estimate them anew from their own points;
3. S1 and ST of the emulator's mean with bootstrap-refit intervals, ranked by ST; PAWN of the point means
   beside them (model-free, a check on the surrogate);
4. with ``[analysis] analyse_variance``: S1 and ST of the replicate variance sigma^2(x) from a GP of
   ``log s2`` (point estimates; the ``__var`` tables) -- only when the Brown-Forsythe test rejects equal
   variances at every point (p < 0.05).  Otherwise the indices are left undefined: normalised indices of
   a constant are ratios of sampling noise (on a homoscedastic G-function they name three factors).

An output's indices are trusted when its noise-corrected Q^2 reaches ``q2_threshold``; otherwise the
report warns.  Convergence (``--until-converged``) compares the indices at the last two design sizes
(every doubling is a stage) with :func:`experiments.analysis.sensitivity.judge_convergence` and also asks
for Q^2 >= ``q2_threshold`` at the largest size.

Fitted results are memoised in this process by the exact data they were computed from, so the
convergence check during a study and the final analysis do not fit the same emulator twice.  On designs of
``PARALLEL_POINTS`` points or more the outputs are fitted in parallel processes first (:func:`fit_outputs`).
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.emulator import (
    cross_validated_q2,
    emulator_indices,
    fit_emulator,
    told_noise,
    variance_indices,
)
from experiments.analysis.noise_corrected import point_moments
from experiments.analysis.sensitivity import (
    ConvergenceVerdict,
    OutputAnalysis,
    analysis_rng,
    judge_convergence,
    pawn_indices,
    rank_table,
)
from experiments.config.study import StudyConfig

EMULATOR_COLUMNS = ("output", "surrogate", "noise", "hyperparameters", "warping", "cross_validation", "points",
                    "points_fitted", "replicates", "runs", "q2", "q2_noise_corrected", "q2_noise_corrected_se",
                    "cv_coverage", "cv_mean_squared_error", "q2_threshold", "trusted", "fit_seconds", "q2_seconds",
                    "indices_seconds", "variance_seconds")

_MEMO: dict[tuple[Any, ...], dict[str, Any]] = {}

#: Designs of at least this many points fit their outputs' emulators in parallel processes (one output per
#: process, as many at once as there are cores); below it, starting the processes (about 2 s) costs more
#: than the fits.
PARALLEL_POINTS = 200


@dataclass
class EmulatorAnalysis:
    """The emulator part of a study's analysis."""

    outputs: list[OutputAnalysis] = field(default_factory=list)
    table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(EMULATOR_COLUMNS)))
    convergence: pd.DataFrame | None = None
    verdict: ConvergenceVerdict | None = None
    warnings: list[str] = field(default_factory=list)


#: Below this p-value of the test of equal variances, the replicate variance is analysed (else: no factor
#: detectably changes it, and indices of a constant would be ratios of noise).
VARIANCE_TEST_LEVEL = 0.05


def constant_variance_p(values: np.ndarray) -> float:
    """p-value of the Brown-Forsythe test (Levene's test about the median; scipy.stats.levene) that every
    design point has the same replicate variance.  ``values``: (points, R), NaN allowed."""
    from scipy import stats

    groups = [row[np.isfinite(row)] for row in values]
    groups = [g for g in groups if len(g) >= 2]
    if len(groups) < 2:
        return math.nan
    with np.errstate(all="ignore"):
        return float(stats.levene(*groups, center="median").pvalue)


def stage_ends(stages: list[dict[str, Any]]) -> list[int]:
    """Cumulative design points at the end of every stage (the sizes the convergence check compares)."""
    return [int(x) for x in np.cumsum([stage["points"] for stage in stages])]


def pool_repeated_points(u: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Design rows with equal coordinates (stages of ``grow = "replicates"``) pooled into one point each.

    Returns the distinct points in the order of their first row and their replicate values side by side
    (n_distinct, R x most copies), NaN where a point has fewer copies.  Without repeats: unchanged.
    """
    _, first, inverse = np.unique(u, axis=0, return_index=True, return_inverse=True)
    if len(first) == len(u):
        return u, values
    order = np.argsort(first)
    group = np.empty_like(order)
    group[order] = np.arange(len(order))
    group = group[np.ravel(inverse)]
    replicates = values.shape[1]
    pooled = np.full((len(order), replicates * int(np.bincount(group).max())), np.nan)
    filled = np.zeros(len(order), dtype=int)
    for row, point in enumerate(group):
        pooled[point, filled[point]:filled[point] + replicates] = values[row]
        filled[point] += replicates
    return u[first[order]], pooled


def _key(config: StudyConfig, name: str, u: np.ndarray, values: np.ndarray) -> tuple[Any, ...]:
    digest = hashlib.sha1(np.ascontiguousarray(u).tobytes() + np.ascontiguousarray(values).tobytes()).hexdigest()
    settings = tuple(sorted((k, str(v)) for k, v in config.design.items()))
    return (config.seed, name, len(u), digest, settings, config.analysis["confidence"])


def analysed_sizes(n_points: int, ends: list[int]) -> list[int]:
    """The design sizes an analysis fits: the last two stage ends (the convergence check compares them) and
    all points."""
    return sorted({*[n for n in ends if n <= n_points][-2:], n_points})


def _fit_sizes(u: np.ndarray, values: np.ndarray, name: str, names: list[str], config: StudyConfig,
               sizes: list[int]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """In a worker process: one output's emulators on the first ``sizes`` points; the memo entries made."""
    before = set(_MEMO)
    for n in sizes:
        emulate_mean(u[:n], values[:n], name, names, config)
    return {key: value for key, value in _MEMO.items() if key not in before}


def fit_outputs(u: np.ndarray, values: dict[str, np.ndarray], outputs: list[str], names: list[str],
                config: StudyConfig, ends: list[int]) -> None:
    """Fit the emulators of ``outputs`` at every analysed size in parallel processes, one output per process
    (joblib's loky backend), into this process's memo: the analysis and the convergence check then only
    look them up.

    Each output's fit depends only on its own data and its own random stream (``analysis_rng`` of its
    name), so the results equal those fitted one after the other (test and
    ``benchmarks/bench_emulator_parallel.py``).  Designs below ``PARALLEL_POINTS`` points, one output or
    one core: nothing to do here (the fits happen where they are asked for).
    """
    sizes = analysed_sizes(len(u), ends)
    todo = [name for name in outputs
            if any(_key(config, name, u[:n], values[name][:n]) not in _MEMO for n in sizes)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = min(len(todo), cores)
    if workers < 2 or len(u) < PARALLEL_POINTS:
        return
    from joblib import Parallel, delayed

    # loky limits each worker's BLAS threads to cores / workers, so the fits do not oversubscribe the cores
    made = Parallel(n_jobs=workers, backend="loky")(
        delayed(_fit_sizes)(u, values[name], name, names, config, sizes) for name in todo)
    for entries in made:
        _MEMO.update(entries)


def emulate_mean(u: np.ndarray, values: np.ndarray, name: str, names: list[str],
                 config: StudyConfig) -> dict[str, Any]:
    """Fit, cross-validate and compute the indices of one output's emulator on design ``u`` (n, d).

    ``values`` is the replicate matrix (n, R) of the output.  Returns a dict with ``frame`` (S1, ST with
    half-widths, index ``factor``), ``row`` (one row of ``analysis/emulator.csv``), ``mean``, ``var`` and
    ``count`` per point and ``fitted`` (the mask of points used).
    """
    key = _key(config, name, u, values)
    if key in _MEMO:
        return _MEMO[key]
    settings = config.design
    u, values = pool_repeated_points(u, values)
    mean, var, count = point_moments(values)
    fitted = (count >= 2) & np.isfinite(mean) & np.isfinite(var)
    row: dict[str, Any] = {"output": name, "surrogate": settings["surrogate"],
                           # run sets written before these two options lack them: what they did then
                           "noise": settings.get("noise", "per_point"),
                           "hyperparameters": settings.get("hyperparameters", "fixed"),
                           "warping": settings.get("warping", "none"),
                           "cross_validation": settings.get("cross_validation", "fixed"),
                           "points": len(u),
                           "points_fitted": int(fitted.sum()), "replicates": values.shape[1],
                           "runs": int(count.sum()), "q2_threshold": settings["q2_threshold"]}
    frame = pd.DataFrame(np.nan, index=pd.Index(names, name="factor"), columns=["S1", "S1_conf", "ST", "ST_conf"])
    result = {"frame": frame, "row": row, "u": u, "values": values, "mean": mean, "var": var, "count": count,
              "fitted": fitted, "note": ""}
    ybar, measured, x = mean[fitted], var[fitted] / count[fitted], u[fitted]
    if fitted.sum() < max(2 * settings["folds"], len(names) + 2) or np.var(ybar) == 0:
        result["note"] = ("constant over all design points: no factor matters (indices undefined)"
                          if fitted.sum() and np.var(ybar) == 0 else
                          f"only {int(fitted.sum())} points with 2 or more defined replicate values: too few to emulate")
        row.update(q2=math.nan, q2_noise_corrected=math.nan, q2_noise_corrected_se=math.nan, cv_coverage=math.nan,
                   cv_mean_squared_error=math.nan, trusted=False)
        _MEMO[key] = result
        return result
    noise = told_noise(var[fitted], count[fitted], row["noise"])
    rng = analysis_rng(config.seed, f"emulator{name}")
    options: dict[str, Any] = ({"restarts": settings["restarts"], "warping": row["warping"]}
                               if settings["surrogate"] == "gp" else {"order": settings["order"]})
    start = time.perf_counter()
    model = fit_emulator(settings["surrogate"], x, ybar, noise, rng, **options)
    row["fit_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    # "fixed": the folds keep the full fit's hyperparameters and warps (cheap, optimistic); "nested": every
    # fold fits them anew from its own points, as the full fit did
    fixed = settings["surrogate"] == "gp" and row["cross_validation"] == "fixed"
    cv_options = {"kernel": model.kernel, "warps": model.warps} if fixed else options
    q2 = cross_validated_q2(settings["surrogate"], x, ybar, noise, rng, settings["folds"], measured_noise=measured,
                            se_rng=analysis_rng(config.seed, f"q2{name}"), **cv_options)
    row["q2_seconds"] = time.perf_counter() - start
    row.update(q2)
    row["trusted"] = bool(q2["q2_noise_corrected"] >= settings["q2_threshold"])
    start = time.perf_counter()
    result["frame"] = emulator_indices(model, x, ybar, noise, names, rng, bootstrap=settings["refits"],
                                       n_mc=settings["mc_samples"], confidence=config.analysis["confidence"],
                                       hyperparameters=row["hyperparameters"],
                                       iterations=settings.get("refit_iterations", 0))
    row["indices_seconds"] = time.perf_counter() - start
    _MEMO[key] = result
    return result


def analyse_emulator(u: np.ndarray, values: dict[str, np.ndarray], stats: Any, outputs: list[str], names: list[str],
                     config: StudyConfig, ends: list[int]) -> EmulatorAnalysis:
    """Rankings (replicate mean and, if asked, replicate variance), ``emulator.csv`` rows and convergence."""
    result = EmulatorAnalysis()
    settings, boot, conf = config.design, config.analysis["bootstrap"], config.analysis["confidence"]
    fit_outputs(u, values, list(dict.fromkeys([*outputs, *config.convergence["outputs"]])), names, config, ends)
    rows = []
    for name in outputs:
        fit = emulate_mean(u, values[name], name, names, config)
        rng = analysis_rng(config.seed, f"pawn{name}")
        mean, points = fit["mean"], fit["u"]
        pawn = pd.DataFrame(np.nan, index=pd.Index(names, name="factor"), columns=["pawn", "pawn_conf"])
        dummy = dummy_conf = math.nan
        if np.isfinite(mean).sum() >= 2 * config.analysis["pawn_slices"]:
            ok = np.isfinite(mean)
            pawn, dummy, dummy_conf = pawn_indices(points[ok], mean[ok], names, config.analysis["pawn_slices"], boot,
                                                   conf, rng)
        note = fit["note"]
        row = fit["row"]
        if np.isfinite(row.get("q2", math.nan)) and not row["trusted"]:
            note = (f"{note}; " if note else "") + (
                f"emulator Q^2 (noise-corrected, {settings['folds']}-fold) = {row['q2_noise_corrected']:.3f} "
                f"(standard error {row['q2_noise_corrected_se']:.3f}) is below the threshold "
                f"{settings['q2_threshold']:g}: its indices are not trusted (more points: --until-converged "
                "doubles them)")
        skipped = len(points) - row["points_fitted"]
        if skipped and row["points_fitted"]:
            note = (f"{note}; " if note else "") + (f"{skipped} of {len(points)} points had fewer than 2 defined "
                                                    "replicate values and were left out of the emulator")
        ranking = rank_table(pd.concat([fit["frame"], pawn], axis=1), "ST")
        result.outputs.append(OutputAnalysis(name, "mean", ranking, "ST", 0, dummy, dummy_conf, {}, note))
        rows.append(row)
    if config.analysis["analyse_variance"]:
        for name in outputs:
            fit = emulate_mean(u, values[name], name, names, config)
            ok = fit["fitted"] & (fit["var"] > 0)
            frame = pd.DataFrame(np.nan, index=pd.Index(names, name="factor"), columns=["S1", "ST"])
            start = time.perf_counter()
            p_value = constant_variance_p(fit["values"][fit["fitted"]])
            if not (ok.sum() >= len(names) + 2 and np.var(np.log(fit["var"][ok])) > 0):
                note = "replicate variance constant or undefined: indices undefined"
            elif not p_value < VARIANCE_TEST_LEVEL:
                note = (f"the factors change the replicate variance no more than chance would (Brown-Forsythe test of "
                        f"equal variances over the points: p = {p_value:.2g}): indices undefined, no factor "
                        "detectably makes the outcome less predictable")
            else:
                note = (f"replicate-variance indices of the emulated sigma^2(x) (Brown-Forsythe p = {p_value:.2g}): "
                        "point estimates, no interval")
                frame = variance_indices(fit["u"][ok], fit["var"][ok], fit["count"][ok], names,
                                         analysis_rng(config.seed, f"emulator{name}__var"),
                                         n_mc=settings["mc_samples"])
            fit["row"]["variance_seconds"] = time.perf_counter() - start
            ranking = rank_table(frame, "ST")
            result.outputs.append(OutputAnalysis(name, "variance", ranking, "ST", 0, math.nan, math.nan, {}, note))
    result.table = pd.DataFrame(rows).reindex(columns=list(EMULATOR_COLUMNS))
    for row in rows:
        if np.isfinite(row.get("q2", math.nan)) and not row["trusted"]:
            result.warnings.append(f"emulator, {row['output']}: Q^2 = {row['q2_noise_corrected']:.3f} "
                                   f"(standard error {row['q2_noise_corrected_se']:.3f}) < "
                                   f"{settings['q2_threshold']:g}; its ranking is not trusted")
    result.convergence, result.verdict = emulator_convergence(u, values, list(config.convergence["outputs"]), names,
                                                              config, ends)
    return result


def emulator_convergence(u: np.ndarray, values: dict[str, np.ndarray], outputs: list[str], names: list[str],
                         config: StudyConfig, ends: list[int]) -> tuple[pd.DataFrame, ConvergenceVerdict]:
    """Emulator ST (and half-width) of every factor at the last two design sizes, and the verdict.

    Converged when :func:`judge_convergence` says so for every output AND every output's noise-corrected
    Q^2 at the largest size is at least ``q2_threshold``.
    """
    sizes = [n for n in ends if n <= len(u)][-2:] or [len(u)]
    fit_outputs(u, values, outputs, names, config, ends)
    rows = []
    q2: dict[str, tuple[float, float]] = {}
    for n in sizes:
        for name in outputs:
            fit = emulate_mean(u[:n], values[name][:n], name, names, config)
            frame = fit["frame"]
            ranks = frame["ST"].rank(ascending=False, method="first")
            for factor in names:
                rows.append({"base": n, "runs": int(fit["row"]["runs"]), "output": name, "factor": factor,
                             "index": "ST", "value": frame.at[factor, "ST"], "conf": frame.at[factor, "ST_conf"],
                             "scaled_conf": frame.at[factor, "ST_conf"], "rank": ranks[factor],
                             "q2_noise_corrected": fit["row"].get("q2_noise_corrected", math.nan)})
            if n == sizes[-1]:
                q2[name] = (float(fit["row"].get("q2_noise_corrected", math.nan)),
                            float(fit["row"].get("q2_noise_corrected_se", math.nan)))
    table = pd.DataFrame(rows)
    verdict = judge_convergence(table, outputs, config.convergence["top"], config.convergence["threshold"])
    threshold = config.design["q2_threshold"]
    for name, (value, se) in q2.items():
        if not value >= threshold:
            verdict.converged = False
            verdict.reasons.append(f"{name}: emulator Q^2 (noise-corrected) = {value:.3f} (standard error {se:.3f}) "
                                   f"< {threshold:g}")
    verdict.criterion += f"; emulator Q^2 (noise-corrected, cross-validated) >= {threshold:g}"
    return table, verdict


__all__ = ["EMULATOR_COLUMNS", "EmulatorAnalysis", "analyse_emulator", "analysed_sizes", "emulate_mean",
           "emulator_convergence", "fit_outputs", "pool_repeated_points", "stage_ends"]
