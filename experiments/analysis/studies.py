"""From a run set on disk to tables, a report and plots in its ``analysis/`` folder.

Reads only the analysed output columns of the Parquet parts, reduces them to per-point replicate
statistics, runs the indices of :mod:`experiments.analysis.sensitivity`, and writes:

    analysis/points.parquet         per design point: factor values; per output mean, variance, n, se
    analysis/noise.csv              stochastic-noise share per output, with warnings
    analysis/ranking_<output>.csv   one ranked table per output (and <output>__var for replicate variance)
    analysis/ranking_<output>.md    the same as Markdown, with the Spearman agreement between methods
    analysis/agreement.csv          Spearman rank agreement between methods, per output
    analysis/convergence.csv        primary index on design prefixes (sensitivity studies)
    analysis/emulator.csv           method = "emulator": cross-validated Q^2 per output, fit and index times
    analysis/report.md              everything above in one page, plus runs, failures and convergence verdict
    analysis/summary.json           the same facts for machines
    analysis/*.png                  sobol_*, morris_*, pawn_*, convergence_*, heatmap_* figures
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.plots import analysis as plots
from experiments.plots.figures import tidy_number
from experiments.store.runset import ANALYSIS_DIR, RunSet
from experiments.store.atomic import atomic_write_json, atomic_write_parquet, atomic_write_text
from experiments.analysis.sensitivity import (
    ConvergenceVerdict,
    OutputAnalysis,
    agreement,
    analyse_output,
    convergence_table,
    distinguishability,
    judge_convergence,
    noise_table,
    point_statistics,
)
from experiments.analysis.noise_corrected import replicate_matrix
from experiments.config.study import StudyConfig


@dataclass
class StudyAnalysis:
    """Everything the report shows."""

    config: StudyConfig
    n_points: int
    runs_total: int
    runs_done: int
    runs_failed: int
    points: pd.DataFrame
    noise: pd.DataFrame
    outputs: list[OutputAnalysis] = field(default_factory=list)
    agreement: dict[str, pd.DataFrame] = field(default_factory=dict)
    convergence: pd.DataFrame | None = None
    verdict: ConvergenceVerdict | None = None
    warnings: list[str] = field(default_factory=list)
    emulator: pd.DataFrame | None = None  # method = "emulator": Q^2 and timings per output


def points_frame(design: pd.DataFrame, names: list[str], stats: Any, outputs: list[str]) -> pd.DataFrame:
    """Per design point: point, factor values, and for each output its mean, variance, n and standard error."""
    frame = design[["point", *names]].copy().reset_index(drop=True)
    for name in outputs:
        n = stats.count[name].to_numpy()
        frame[f"{name}_mean"] = stats.mean[name].to_numpy()
        frame[f"{name}_var"] = stats.variance[name].to_numpy()
        frame[f"{name}_n"] = n
        with np.errstate(invalid="ignore", divide="ignore"):
            frame[f"{name}_se"] = np.sqrt(frame[f"{name}_var"].to_numpy() / np.where(n > 0, n, np.nan))
    return frame



def _record(analysis, result, config) -> None:
    """Add one output's result to the analysis: its ranking beside any reference study's, and its notes."""
    analysis.outputs.append(result)
    extra: dict[str, pd.Series] = {}
    if result.statistic == "mean" and config.compare_with:
        extra, notes = _reference_series(config.compare_with, result.output)
        analysis.warnings.extend(n for n in notes if n not in analysis.warnings)
        for label, series in extra.items():
            result.ranking[f"ref {label}"] = series.reindex(result.ranking.index)
    analysis.agreement[result.label] = agreement(result.ranking, extra)
    if result.note:
        analysis.warnings.append(f"{result.label}: {result.note}")

def _reference_series(paths: tuple[str, ...], output: str) -> tuple[dict[str, pd.Series], list[str]]:
    """Primary-index columns of other run sets' rankings for ``output`` (for rank agreement)."""
    found: dict[str, pd.Series] = {}
    notes = []
    for text in paths:
        path = Path(text)
        csv = path / ANALYSIS_DIR / f"ranking_{output}.csv"
        if not csv.is_file():
            notes.append(f"compare_with: {csv} not found (run that study first); skipped")
            continue
        table = pd.read_csv(csv).set_index("factor")
        for column, label in (("ST_corrected", "Sobol ST corrected"), ("ST", "Sobol ST"),
                              ("mu_rms_corrected", "Morris mu_rms corrected"), ("mu_star", "Morris mu*")):
            if column in table and table[column].notna().sum() >= 3:
                found[f"{label} ({path.name})"] = table[column]
                break
    return found, notes


def analyse_runset(runset: RunSet, config: StudyConfig, *, with_convergence: bool = True) -> StudyAnalysis:
    """Analyse every finished run of a run set (failed runs are left out and counted)."""
    design = runset.design()
    names = config.factor_names
    outputs = list(config.outputs)
    runs = runset.read_runs(columns=outputs)
    stats = point_statistics(runs, outputs, len(design))
    failures = runset.failures()
    analysis = StudyAnalysis(
        config=config, n_points=len(design), runs_total=len(design) * config.replicates, runs_done=len(runs),
        runs_failed=len(failures), points=points_frame(design, names, stats, outputs),
        noise=noise_table(runs, stats, outputs, config.replicates, config.analysis["noise_warn_share"]),
    )
    missing = analysis.runs_total - analysis.runs_done - analysis.runs_failed
    if missing:
        analysis.warnings.append(f"{missing} runs have neither a result nor a failure record (interrupted?); "
                                 "`lcsim resume` runs them")
    if failures:
        analysis.warnings.append(f"{len(failures)} runs failed (see failures/); they are left out of the point means")
    analysis.warnings.extend(f"noise, {row.output}: {row.warning}" for row in analysis.noise.itertuples()
                             if row.warning)

    design_type = config.design["type"]
    u = design[[f"u.{n}" for n in names]].to_numpy(dtype=float)
    values = replicate_values(runs, outputs, len(design), config)
    if design_type == "emulator":
        from experiments.analysis.emulator_study import analyse_emulator, stage_ends

        emulated = analyse_emulator(u, values, stats, outputs, names, config, stage_ends(runset.stages))
        analysis.emulator = emulated.table
        analysis.warnings.extend(emulated.warnings)
        for result in emulated.outputs:
            _record(analysis, result, config)
        if with_convergence:
            analysis.convergence = emulated.convergence
            analysis.verdict = emulated.verdict
        return analysis
    statistics = [("mean", stats.mean)]
    if config.analysis["analyse_variance"] and config.replicates >= 2:
        statistics.append(("variance", stats.variance))
    for statistic, table in statistics:
        for name in outputs:
            noise = None
            if statistic == "mean" and config.replicates >= 2:
                counts = stats.count[name].to_numpy(dtype=float)
                with np.errstate(invalid="ignore", divide="ignore"):
                    noise = stats.variance[name].to_numpy(dtype=float) / np.where(counts > 0, counts, np.nan)
            result = analyse_output(name, statistic, design_type, u, table[name].to_numpy(dtype=float), names,
                                    config.analysis, config.design, config.seed, noise=noise,
                                    values=values.get(name) if statistic == "mean" else None)
            _record(analysis, result, config)

    if with_convergence and design_type in ("sobol", "morris"):
        analysis.convergence = convergence_table(design_type, u, stats.mean, outputs, names, config.analysis,
                                                 config.design, config.replicates, config.seed, values=values)
        analysis.verdict = judge_convergence(analysis.convergence, config.convergence["outputs"],
                                             config.convergence["top"], config.convergence["threshold"])
    return analysis


def replicate_values(runs: pd.DataFrame, outputs: list[str], n_points: int,
                     config: StudyConfig) -> dict[str, np.ndarray]:
    """Replicate values (points x R) per output, for the noise-corrected and emulator analyses (R >= 2)."""
    if config.replicates < 2 or config.design["type"] not in ("sobol", "morris", "emulator"):
        return {}
    return {name: replicate_matrix(runs, name, n_points) for name in outputs}


def check_convergence(runset: RunSet, config: StudyConfig) -> ConvergenceVerdict:
    """Only the convergence verdict (cheaper than a full analysis: primary index, analysed outputs only)."""
    design = runset.design()
    names = config.factor_names
    outputs = list(config.convergence["outputs"])
    runs = runset.read_runs(columns=outputs)
    stats = point_statistics(runs, outputs, len(design))
    u = design[[f"u.{n}" for n in names]].to_numpy(dtype=float)
    values = replicate_values(runs, outputs, len(design), config)
    if config.design["type"] == "emulator":
        from experiments.analysis.emulator_study import emulator_convergence, stage_ends

        return emulator_convergence(u, values, outputs, names, config, stage_ends(runset.stages))[1]
    table = convergence_table(config.design["type"], u, stats.mean, outputs, names, config.analysis,
                              config.design, config.replicates, config.seed, values=values)
    return judge_convergence(table, outputs, config.convergence["top"], config.convergence["threshold"])


# --------------------------------------------------------------------------------------- writing


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or pd.isna(value):
        return "—"
    value = float(value)
    if value != 0 and (abs(value) >= 10_000 or abs(value) < 10 ** -(digits)):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}f}" if abs(value) < 100 else f"{value:.1f}"


def _pm(value: Any, conf: Any) -> str:
    return "—" if _fmt(value) == "—" else f"{_fmt(value)} ± {_fmt(conf)}"


NOISE_FLOOR_TEXT = {
    "mu_star": "Morris mu* that replicate noise alone gives a factor with no effect",
    "ST": "Sobol ST that replicate noise alone adds to every factor",
}


def ranking_csv(result: OutputAnalysis) -> pd.DataFrame:
    """The ranked table of one output as written to CSV (factor as a column)."""
    frame = result.ranking.reset_index().rename(columns={"index": "factor"})
    frame.insert(0, "output", result.output)
    frame.insert(1, "statistic", "replicate mean" if result.statistic == "mean" else "replicate variance")
    judged = distinguishability(result.ranking, result.primary)
    if judged is not None:  # interval-based: tie group (1 = the top group) and interval above zero
        frame["tie_group"] = frame["factor"].astype(str).map(judged.tie_groups)
        frame["above_zero"] = frame["factor"].astype(str).isin(judged.nonzero)
    return frame


def present_columns(ranking: pd.DataFrame) -> list[tuple[str, str, str | None]]:
    """(header, value column, half-width column) of the indices this ranking has values for."""
    candidates = [("ST corrected", "ST_corrected", "ST_corrected_conf"),
                  ("S1 corrected", "S1_corrected", "S1_corrected_conf"),
                  ("Morris mu_rms corrected", "mu_rms_corrected", "mu_rms_corrected_conf"),
                  ("total ST", "ST", "ST_conf"), ("first-order S1", "S1", "S1_conf"),
                  ("Morris mu*", "mu_star", "mu_star_conf"), ("Morris sigma", "sigma", "sigma_conf"),
                  ("PAWN", "pawn", "pawn_conf")]
    present = [c for c in candidates if c[1] in ranking and ranking[c[1]].notna().any()]
    if "ST_corrected" in ranking and "ST" in ranking:  # raw ST beside the corrected one: say which is which
        present = [(f"raw {h}" if v in ("ST", "S1") else h, v, c) for h, v, c in present]
    return present


#: What the report says about each primary index.
PRIMARY_TEXT = {
    "ST_corrected": ("Ranked by the noise-corrected total index ST_corrected: the total index of the *expected* "
                     "outcome, with the replicate noise (mean within-point variance / R) removed from the Jansen "
                     "numerator and from the total variance; S1_corrected likewise. The raw ST and S1 of the "
                     "replicate means stand beside them: raw ST carries the noise floor stated below. Intervals: "
                     "two-level bootstrap (base rows, then replicates within points)."),
    "mu_rms_corrected": ("Ranked by mu_rms_corrected, the root mean squared elementary effect of the expected outcome "
                         "(its square is unbiased: the noise of the effects is subtracted). No unbiased mu* exists "
                         "(|effect| is not smooth at 0); raw mu* stands beside it with its noise floor, the mu* "
                         "noise alone gives a factor with no effect."),
    "ST": "Ranked by ST.",
    "mu_star": "Ranked by mu*.",
    "pawn": "Ranked by PAWN.",
}
EMULATOR_TEXT = ("Indices of the emulator's mean function (a surrogate of the replicate means told each point's "
                 "noise, so the noise is not in the indices); intervals from bootstrap refits of the emulator. "
                 "Trust them only when the emulator's Q^2 reaches its threshold (table above).")


def ranking_markdown(result: OutputAnalysis, agree: pd.DataFrame, confidence: float, emulator: bool = False) -> str:
    """One output's ranked table as Markdown, with the agreement between methods below it."""
    columns = present_columns(result.ranking)
    refs = [c for c in result.ranking.columns if c.startswith("ref ")]
    what = "replicate mean" if result.statistic == "mean" else "replicate variance"
    explain = PRIMARY_TEXT.get(result.primary, f"Ranked by {result.primary}.")
    if emulator:
        explain = f"{explain} {EMULATOR_TEXT}"
    lines = [f"### {result.output} ({what})", "",
             f"{explain} ± is the half-width of the {confidence:.0%} interval.", ""]
    header = ["rank", "factor", *[c[0] for c in columns], *refs]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---:", "---"] + ["---:"] * (len(header) - 2)) + "|")
    for factor, row in result.ranking.iterrows():
        cells = [str(row["rank"]) if pd.notna(row["rank"]) else "—", f"`{factor}`"]
        cells += [_pm(row[v], row[c]) for _, v, c in columns]
        cells += [_fmt(row[r]) for r in refs]
        lines.append("| " + " | ".join(cells) + " |")
    if math.isfinite(result.pawn_dummy):
        lines += ["", f"PAWN of a dummy factor (no effect): {_pm(result.pawn_dummy, result.pawn_dummy_conf)}."]
    for index, value in result.noise_floor.items():
        lines += ["", f"{NOISE_FLOOR_TEXT[index]}: {_fmt(value)} (factors near it are indistinguishable from noise)."]
    lines += distinguishability_lines(result)
    if result.note:
        lines += ["", f"Note: {result.note}."]
    if not agree.empty:
        lines += ["", "Rank agreement between methods (Spearman):", ""]
        for row in agree.itertuples():
            lines.append(f"- {row.method_a} vs {row.method_b}: rho = {_fmt(row.spearman, 2)} "
                         f"over {row.factors} factors")
    return "\n".join(lines) + "\n"


def distinguishability_lines(result: OutputAnalysis) -> list[str]:
    """Which factors the intervals separate: from zero, from each other (tie groups)."""
    judged = distinguishability(result.ranking, result.primary)
    if judged is None:
        return []
    groups: dict[int, list[str]] = {}
    for factor, group in judged.tie_groups.items():
        groups.setdefault(group, []).append(factor)
    shown = [g for g in sorted(groups) if len(groups[g]) > 1]
    lines = ["", f"Distinguishable from zero (interval above 0): "
             + (", ".join(f"`{f}`" for f in judged.nonzero) if judged.nonzero else "none") + "."]
    separated = sorted(groups)
    lines.append(f"Tie groups by {result.primary} (factors whose intervals chain together; the groups are "
                 f"distinguishable from each other): {len(separated)} group(s)"
                 + ("; " + "; ".join("{" + ", ".join(f"`{f}`" for f in groups[g]) + "}" for g in shown[:6])
                    if shown else "; every factor is distinguishable from every other") + ".")
    return lines


def noise_markdown(noise: pd.DataFrame) -> str:
    lines = ["| output | R | noise share of run variance | noise share of the replicate means | R needed | warning |",
             "|---|---:|---:|---:|---:|---|"]
    for row in noise.itertuples():
        needed = "—" if not np.isfinite(row.replicates_needed) else str(int(row.replicates_needed))
        lines.append(f"| `{row.output}` | {row.replicates} | {_fmt(row.noise_share)} | {_fmt(row.noise_in_means)} | "
                     f"{needed} | {row.warning or ''} |")
    return "\n".join(lines) + "\n"


def emulator_markdown(table: pd.DataFrame, design: dict[str, Any]) -> str:
    """Cross-validated Q^2 and timings of every output's emulator."""
    lines = [f"Surrogate `{design['surrogate']}` on a {design['design']} design; Q^2 is {design['folds']}-fold "
             "cross-validated against the held-out replicate means (noise-corrected: the known noise of those means "
             f"removed; ± its bootstrap standard error over the points). Indices are trusted at Q^2 "
             f"(noise-corrected) >= {design['q2_threshold']:g}. Held-out calibration: the share of held-out "
             "means within the emulator's own 95% predictive band (about 0.95 if its uncertainty is right; "
             "lower: overconfident) and the mean squared standardised error (about 1).", "",
             "| output | points fitted | Q^2 | Q^2 noise-corrected | trusted | in 95% band | mean e^2 | fit s | Q^2 s "
             "| indices s |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for row in table.itertuples():
        corrected = f"{_fmt(row.q2_noise_corrected)} ± {_fmt(getattr(row, 'q2_noise_corrected_se', math.nan))}"
        lines.append(f"| `{row.output}` | {row.points_fitted} | {_fmt(row.q2)} | {corrected} | "
                     f"{'yes' if row.trusted else 'NO'} | {_fmt(getattr(row, 'cv_coverage', math.nan))} | "
                     f"{_fmt(getattr(row, 'cv_mean_squared_error', math.nan), 2)} | {_fmt(row.fit_seconds, 1)} | "
                     f"{_fmt(row.q2_seconds, 1)} | {_fmt(row.indices_seconds, 1)} |")
    return "\n".join(lines) + "\n"


def report_markdown(analysis: StudyAnalysis, manifest: dict[str, Any]) -> str:
    """The one-page report of a study."""
    config = analysis.config
    design = config.design
    lines = [f"# {config.kind} `{config.name}`", ""]
    if config.description:
        lines += [config.description, ""]
    lines += [
        f"- model: `{config.model}`; design: {design['type']} "
        + ", ".join(f"{k} = {v}" for k, v in design.items() if k not in ("type", "levels")),
        f"- factors ({len(config.factors)}): "
        + ", ".join(f"`{f.name}` [{f.low:g}, {f.high:g}]" for f in config.factors),
        f"- design points: {analysis.n_points}; replicates per point: {config.replicates} "
        f"({'common random numbers' if config.common_random_numbers else 'independent seeds'}); "
        f"root seed {config.seed}",
        f"- runs: {analysis.runs_done} done, {analysis.runs_failed} failed, of {analysis.runs_total}",
        f"- code: git {manifest.get('git_commit')}{' (dirty)' if manifest.get('git_dirty') else ''}; "
        f"command: `{manifest.get('command')}`",
        "",
    ]
    if analysis.verdict is not None:
        verdict = analysis.verdict
        state = "converged" if verdict.converged else "NOT converged"
        lines += [f"**Convergence: {state}** at {verdict.runs} runs (base {verdict.base}; criterion: "
                  f"{verdict.criterion}).", ""]
        lines += [f"- {reason}" for reason in verdict.reasons]
        lines += [""]
    if analysis.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in collapse_warnings(analysis.warnings)] + [""]
    lines += ["## Stochastic noise", "", noise_markdown(analysis.noise)]
    if analysis.emulator is not None:
        lines += ["## Emulator accuracy", "", emulator_markdown(analysis.emulator, config.design)]
    if analysis.outputs:
        lines += ["## Rankings", ""]
        for result in analysis.outputs:
            lines += [ranking_markdown(result, analysis.agreement[result.label], config.analysis["confidence"],
                                       emulator=analysis.emulator is not None)]
    return "\n".join(lines)


def write_analysis(runset: RunSet, analysis: StudyAnalysis) -> list[Path]:
    """Write tables, report and plots into ``analysis/``; returns the files written."""
    folder = runset.path / ANALYSIS_DIR
    folder.mkdir(exist_ok=True)
    config = analysis.config
    written: list[Path] = []

    def text(name: str, content: str) -> None:
        atomic_write_text(folder / name, content)
        written.append(folder / name)

    atomic_write_parquet(folder / "points.parquet", analysis.points)
    written.append(folder / "points.parquet")
    text("noise.csv", analysis.noise.to_csv(index=False))
    agreements = []
    for result in analysis.outputs:
        text(f"ranking_{result.label}.csv", ranking_csv(result).to_csv(index=False))
        text(f"ranking_{result.label}.md",
             ranking_markdown(result, analysis.agreement[result.label], config.analysis["confidence"],
                              emulator=analysis.emulator is not None))
        frame = analysis.agreement[result.label].copy()
        frame.insert(0, "output", result.label)
        agreements.append(frame)
    if agreements:
        text("agreement.csv", pd.concat(agreements, ignore_index=True).to_csv(index=False))
    if analysis.convergence is not None:
        text("convergence.csv", analysis.convergence.to_csv(index=False))
    if analysis.emulator is not None:
        text("emulator.csv", analysis.emulator.to_csv(index=False))
    text("report.md", report_markdown(analysis, runset.manifest))
    summary = {
        "name": config.name, "kind": config.kind, "design": config.design["type"], "runs_total": analysis.runs_total,
        "runs_done": analysis.runs_done, "runs_failed": analysis.runs_failed, "points": analysis.n_points,
        "replicates": config.replicates, "warnings": analysis.warnings,
        "converged": None if analysis.verdict is None else analysis.verdict.converged,
        "convergence_runs": None if analysis.verdict is None else analysis.verdict.runs,
        "top": {r.label: r.ranking.index[:5].tolist() for r in analysis.outputs},
    }
    atomic_write_json(folder / "summary.json", summary)
    written.append(folder / "summary.json")
    written.extend(write_plots(folder, analysis))
    return written


def write_plots(folder: Path, analysis: StudyAnalysis) -> list[Path]:
    """The figures of a study (see :mod:`experiments.plots.analysis`)."""
    config = analysis.config
    written = []
    design_type = config.design["type"]
    for result in analysis.outputs:
        if result.statistic != "mean":
            continue  # replicate-variance rankings are reported as tables only
        ranking = result.ranking
        title = f"{config.name}: {result.label}"
        if design_type in ("sobol", "emulator") and ranking["ST"].notna().any():
            written.append(plots.plot_sobol(ranking, folder / f"sobol_{result.label}.png", title,
                                            result.noise_floor.get("ST", math.nan)))
        if design_type == "morris" and ranking["mu_star"].notna().any():
            written.append(plots.plot_morris(ranking, folder / f"morris_{result.label}.png", title,
                                             noise_floor=result.noise_floor.get("mu_star", math.nan)))
        if ranking["pawn"].notna().any():
            written.append(plots.plot_pawn(ranking, folder / f"pawn_{result.label}.png", result.pawn_dummy, title))
    if analysis.convergence is not None:
        for name in config.outputs:
            written.append(plots.plot_convergence(analysis.convergence, name, folder / f"convergence_{name}.png",
                                                  title=f"{config.name}: convergence of {name}"))
    if config.kind == "sweep" and config.heatmap:
        x, y = config.heatmap
        points = analysis.points
        if design_type == "lhs":
            points = _binned(points, [x, y], config)
        units = {f.name: f.unit for f in config.factors}
        for name in config.outputs:
            written.append(plots.plot_heatmap(points, x, y, name, folder / f"heatmap_{name}.png",
                                              f"{config.name}: {name}", units.get(x, ""), units.get(y, "")))
    return written


def _binned(points: pd.DataFrame, names: list[str], config: StudyConfig, bins: int = 6) -> pd.DataFrame:
    """LHS points with the heatmap factors replaced by the midpoints of ``bins`` equal-width bins."""
    points = points.copy()
    for factor in config.factors:
        if factor.name in names:
            edges = np.linspace(factor.low, factor.high, bins + 1)
            index = np.clip(np.searchsorted(edges, points[factor.name], side="right") - 1, 0, bins - 1)
            points[factor.name] = np.round(0.5 * (edges[index] + edges[index + 1]), 6)
    return points


# --------------------------------------------------------------------------------------- printing


def print_rankings(analysis: StudyAnalysis, console: Any, limit: int | None = None) -> None:
    """Ranked tables (replicate means) on a rich console, with agreement, noise warnings and convergence."""
    from rich.table import Table

    config = analysis.config
    for result in analysis.outputs:
        if result.statistic != "mean":
            continue
        columns = present_columns(result.ranking)
        table = Table(title=f"{config.name}: {result.output} (replicate mean), ranked by {result.primary}; "
                            f"± = {config.analysis['confidence']:.0%} interval half-width",
                      title_justify="left")
        table.add_column("rank", justify="right")
        table.add_column("factor")
        for header, _, _ in columns:
            table.add_column(header, justify="right")
        rows = result.ranking if limit is None else result.ranking.head(limit)
        for factor, row in rows.iterrows():
            table.add_row(str(row["rank"]) if pd.notna(row["rank"]) else "—", str(factor),
                          *[_pm(row[v], row[c]) for _, v, c in columns])
        console.print(table)
        agree = analysis.agreement[result.label]
        for row in agree.itertuples():
            console.print(f"  Spearman {row.method_a} vs {row.method_b}: {_fmt(row.spearman, 2)} "
                          f"({row.factors} factors)")
        for index, value in result.noise_floor.items():
            console.print(f"  {NOISE_FLOOR_TEXT[index]}: {_fmt(value)}")
        if math.isfinite(result.pawn_dummy):
            console.print(f"  PAWN of a dummy factor (no effect): {_pm(result.pawn_dummy, result.pawn_dummy_conf)}")
        if result.note:
            console.print(f"  note: {result.note}")
    if analysis.verdict is not None:
        state = "converged" if analysis.verdict.converged else "NOT converged"
        console.print(f"convergence: {state} at {analysis.verdict.runs} runs")
        for reason in analysis.verdict.reasons:
            console.print(f"  {reason}")
    for warning in collapse_warnings(analysis.warnings):
        console.print(f"warning: {warning}", style="yellow")


def collapse_warnings(warnings: list[str]) -> list[str]:
    """Warnings with the same text for several outputs said once, with a count and the outputs named:
    "noise, a: too few replicates" and "noise, b: too few replicates" become "noise: too few replicates
    (2 outputs: a, b)".  A warning is "<kind>, <output>: <text>" or "<output>: <text>"; others stay."""
    groups: dict[tuple[str, str], list[str]] = {}
    order: list[tuple[str, str]] = []
    for warning in warnings:
        head, sep, text = warning.partition(": ")
        kind, comma, label = head.rpartition(", ") if ", " in head else ("", "", head)
        key = (kind, text) if sep else ("", warning)
        if key not in groups:
            groups[key] = []
            order.append(key)
        if sep:
            groups[key].append(label)
    out = []
    for kind, text in order:
        labels = groups[(kind, text)]
        if not labels:
            out.append(text)
        elif len(labels) == 1:
            out.append(f"{kind + ', ' if kind else ''}{labels[0]}: {text}")
        else:
            out.append(f"{kind + ': ' if kind else ''}{text} ({len(labels)} times: {', '.join(labels)})")
    return out


def print_sweep(analysis: StudyAnalysis, console: Any, limit: int = 40) -> None:
    """The sweep's point table (means ± standard errors) on a rich console."""
    from rich.table import Table

    config = analysis.config
    table = Table(title=f"{config.name}: replicate means ± standard error per design point", title_justify="left")
    for name in config.factor_names:
        table.add_column(name, justify="right")
    for name in config.outputs:
        table.add_column(name, justify="right")
    for _, row in analysis.points.head(limit).iterrows():
        table.add_row(*[tidy_number(row[n]) for n in config.factor_names],
                      *[_pm(row[f"{o}_mean"], row[f"{o}_se"]) for o in config.outputs])
    console.print(table)
    if len(analysis.points) > limit:
        console.print(f"  ... {len(analysis.points) - limit} more points in analysis/points.parquet")
    for warning in collapse_warnings(analysis.warnings):
        console.print(f"warning: {warning}", style="yellow")


__all__ = ["StudyAnalysis", "analyse_runset", "check_convergence", "print_rankings", "print_sweep",
           "ranking_markdown", "report_markdown", "write_analysis"]
