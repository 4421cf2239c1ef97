"""Scenario discovery on a run set on disk: check it is finished, read its tables, discover, write the folder.

``lcsim discover RUNSET --output NAME --above X`` and :func:`experiments.api.discover_runset` both come
here.  The run set must be complete and not being written: discovery on a run set that a sweep is still
filling would describe a design the sweep has not finished (and change under the reader's hands).  While
it reads, it holds the run set's writer lock, so no ``lcsim resume`` starts meanwhile.

Written to ``RUNSET/discovery/<output>/`` all or nothing (an earlier folder of that output is replaced):
``trajectory.csv``, ``limits.csv``, ``cart.csv``, ``feature_scores.csv``, ``cases.csv``, ``report.md``,
``manifest.json`` (command, condition, settings, run set) and the figures ``trajectory.png`` (peeling
trajectory), ``box_limits.png`` (limits against the factor ranges) and ``pairwise.png`` (scatter with the
box), each for the first box; ``trajectory_2.png`` ... for the covering box when there is one; and the
dimensional stack of the factors of highest feature score (:mod:`experiments.analysis.stacking`),
``stacking.csv`` and ``stacking.png``, unless ``stack_factors=0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from experiments.analysis.discovery import (
    LIMITS_CSV,
    REPORT_MD,
    TRAJECTORY_CSV,
    DiscoveryInputError,
    DiscoveryResult,
    cart_table,
    default_factors,
    discover,
    discovery_files,
    write_folder,
)
from experiments.analysis.stacking import (
    STACKING_CSV,
    STACKING_PNG,
    Stack,
    check_stack_factors,
    dimensional_stack,
    stacking_markdown,
)
from experiments.store.runset import RunSet, RunSetBusyError, RunSetError

DISCOVERY_DIR = "discovery"
METHODS = ("prim", "cart")
FIGURES = ("trajectory.png", "box_limits.png", "pairwise.png", "stacking.png")


@dataclass(frozen=True)
class DiscoveryRun:
    """A discovery written to disk: the result, its folder and the files in it."""

    result: DiscoveryResult
    folder: Path
    files: tuple[Path, ...]
    stack: Stack | None = None


def open_finished_runset(path: Path) -> RunSet:
    """Open a run set and refuse one that is not a run set or has runs without a result.

    Raises :class:`DiscoveryInputError` naming the folder, what is wrong and what is allowed.
    """
    path = Path(path)
    try:
        runset = RunSet.open(path)
    except RunSetError as exc:
        raise DiscoveryInputError(str(exc)) from None
    done = len(runset.done_run_ids())
    if done < runset.n_runs:
        failed = len(runset.failures())
        missing = runset.n_runs - done - failed
        raise DiscoveryInputError(
            f"{path}: the run set is incomplete ({done} of {runset.n_runs} runs have a result: {missing} not run, "
            f"{failed} failed); allowed: a complete run set; finish it with `lcsim resume {path}`"
            + (" --retry-failed" if failed else ""))
    return runset


def discover_runset(path: Path, output: str, *, above: float | None = None, below: float | None = None,
                    share: float | None = None, method: str = "prim", box: int | None = None,
                    min_density: float = 0.8, n_resamples: int = 50, seed: int = 0, stack_factors: int | None = None,
                    stack_bins: int = 3, command: str | None = None) -> DiscoveryRun:
    """Discover under which factor combinations ``output`` meets the condition, on the run set at ``path``.

    ``method="prim"`` (default) reports PRIM boxes (first and covering) in ``limits.csv``; ``"cart"``
    reports the CART leaves with density >= 0.5 there instead (no trajectory, no ``--box``).  Either way
    the ``stack_factors`` factors of highest feature score (default 4, or all factors if fewer; 0: none)
    are stacked in ``stack_bins`` quantile
    bins each.  Every user mistake raises :class:`DiscoveryInputError` before anything is written.
    """
    from experiments.plots import discovery as plots

    if method not in METHODS:
        raise DiscoveryInputError(f"method {method!r} is unknown; allowed: {', '.join(METHODS)}")
    if method == "cart" and box is not None:
        raise DiscoveryInputError(f"--box {box} with --method cart: CART has no peeling trajectory; allowed: --box "
                                  "only with --method prim")
    if not 0 < min_density <= 1 or not math.isfinite(min_density):
        raise DiscoveryInputError(f"--min-density {min_density}: out of range; allowed: a number above 0 and at most 1")
    path = Path(path)
    runset = open_finished_runset(path)
    try:
        with runset.lock():
            design = runset.design()
            runs = runset.read_runs()
    except RunSetBusyError as exc:
        raise DiscoveryInputError(f"{exc} (the run set is still running)") from None
    if output not in runs.columns or output in ("run_id", "point", "replicate", "spawn_key"):
        outputs = list(runset.manifest.get("model", {}).get("outputs", []))
        outputs = [o for o in outputs if o in runs.columns] or [c for c in runs.columns if c not in design.columns
                                                                 and c not in ("run_id", "replicate", "spawn_key")]
        raise DiscoveryInputError(f"--output {output}: the run set has no such output; allowed: {', '.join(outputs)}")
    factors = [f["name"] for f in runset.manifest.get("factors", [])] or None
    n_factors = len(factors) if factors is not None else len(default_factors(design))
    if stack_factors is None:
        stack_factors = min(4, n_factors) if n_factors >= 2 else 0
    check_stack_factors(stack_factors, n_factors)
    if box is not None and box < 0:
        raise DiscoveryInputError(f"--box {box}: allowed: a box index from 0 on the trajectory")
    result = discover(design, runs, output, above=above, below=below, share=share, factors=factors, box=box,
                      min_density=min_density, n_resamples=n_resamples if method == "prim" else 0, seed=seed)
    folder = path / DISCOVERY_DIR / output
    manifest = {"method": method, "runset": str(path), "runset_name": runset.manifest.get("name"),
                "command": command, "design_points": len(design), "runs": len(runs)}

    stack = None
    if stack_factors:
        stack = dimensional_stack(result.cases.table[list(result.factors)], result.cases.table["is_case"].to_numpy(),
                                  result.features, n_factors=stack_factors, n_bins=stack_bins)

    def figures(staging: Path) -> None:
        if stack is not None:
            plots.save_figure(plots.plot_stacking(stack), staging / STACKING_PNG)
        if method == "cart":
            return
        for search in result.searches:
            suffix = "" if search.search == 1 else f"_{search.search}"
            plots.save_figure(plots.plot_trajectory(search), staging / f"trajectory{suffix}.png")
            if search.limits:
                plots.save_figure(plots.plot_box_limits(search), staging / f"box_limits{suffix}.png")
            plots.save_figure(plots.plot_pairwise(result, search=search.search), staging / f"pairwise{suffix}.png")

    texts = discovery_files(result)
    if method == "cart":
        del texts[TRAJECTORY_CSV]
        texts[LIMITS_CSV] = cart_limits(result).to_csv(index=False)
    if stack is not None:
        texts[STACKING_CSV] = stack.table.to_csv(index=False)
        report = texts[REPORT_MD]
        cut = report.rindex("Coverage: share of all cases")  # before the closing glossary and settings
        texts[REPORT_MD] = report[:cut] + "\n".join(stacking_markdown(stack)) + "\n" + report[cut:]
    settings = {**dict(result.settings), "stack_factors": stack_factors, "stack_bins": stack_bins}
    record = {"kind": "discovery", "output": output, "condition": result.cases.description, "settings": settings,
              **manifest}
    files = write_folder(folder, texts, manifest=record, extra=figures)
    return DiscoveryRun(result, folder, tuple(files), stack)


def cart_limits(result: DiscoveryResult) -> pd.DataFrame:
    """With ``--method cart``, ``limits.csv``: the CART leaves of density >= 0.5 as boxes (no quasi-p-value or
    resampling share: CART has neither), with their coverage and density."""
    leaves = cart_table(result)
    leaves = leaves[(leaves["density"] >= 0.5) & (leaves["factor"] != "")]
    return pd.DataFrame({"search": "cart", "box": leaves["leaf"], "factor": leaves["factor"],
                         "low": leaves["low"], "high": leaves["high"], "qp_value": math.nan,
                         "resample_share": math.nan, "coverage": leaves["coverage"], "density": leaves["density"]})


def read_discovery(path: Path) -> dict[str, dict[str, pd.DataFrame]]:
    """Every discovery written in a run set: output -> {"trajectory": ..., "limits": ...} (empty if none)."""
    found: dict[str, dict[str, pd.DataFrame]] = {}
    root = Path(path) / DISCOVERY_DIR
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith(".") and (folder / "limits.csv").is_file():
            tables = {"limits": pd.read_csv(folder / "limits.csv")}
            if (folder / "trajectory.csv").is_file():
                tables["trajectory"] = pd.read_csv(folder / "trajectory.csv")
            found[folder.name] = tables
    return found


__all__ = ["DISCOVERY_DIR", "DiscoveryRun", "FIGURES", "METHODS", "cart_limits", "discover_runset", "open_finished_runset",
           "read_discovery"]
