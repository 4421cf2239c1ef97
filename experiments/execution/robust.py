"""A robustness study: every policy over the same Latin hypercube of futures, with common random numbers,
through the run-set engine (any backend, resumable), then the robustness metrics.

The run set's design points are the futures: a Latin hypercube of the uncertain factors (the engine's
``lhs`` design, drawn from the design stream of the root seed).  Each run is one (future, replicate) and
runs every policy in that future on the same seed (:func:`experiments.models.policies.every_policy`), so
replicate r of future f has the seed ``SeedSequence(seed, spawn_key=(f, r))`` under every policy and under
no other future: common random numbers between policies, independent noise between futures.  Outputs are
stored as ``<policy>.<output>`` columns.

Running ``lcsim robust`` again on the same file continues the run set (only the missing runs), on any
backend; the analysis is written to ``RUNSET/robustness/``.  (``lcsim resume`` does not know robustness run
sets; the same ``lcsim robust`` command continues them.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.config.reading import ConfigError
from experiments.config.robust import RobustConfig
from experiments.config.study import StudyConfig
from experiments.designs import samplers
from experiments.execution.backends import BackendSpec
from experiments.execution.engine import build_manifest, check_design, execute, first_stage
from experiments.execution.evaluators import make_evaluator
from experiments.models.policies import base_parameters, output_name, policies_spec
from experiments.models.registry import load_model
from experiments.models.spec import ModelSpec
from experiments.store.runset import RunSet

ROBUSTNESS_DIR = "robustness"


@dataclass
class RobustStudy:
    """What a robustness study left behind: the run set, the result (None if runs failed), the folder."""

    runset: RunSet
    result: Any = None  # experiments.analysis.robustness.RobustnessResult
    folder: Path | None = None
    failed: int = 0
    resumed: bool = False


def study_config(robust: RobustConfig) -> tuple[StudyConfig, ModelSpec]:
    """The run-set study behind a robustness file (design points = futures) and the model of one run."""
    inner = load_model(robust.file.model)
    factors = tuple(samplers.Factor(n, lo, hi, inner.inputs[n].kind, inner.inputs[n].unit)
                    for n, (lo, hi) in robust.uncertain_ranges.items())
    outputs = list(robust.file.outputs)
    spec = policies_spec(robust.file.model, robust.policies, outputs)
    config = StudyConfig(
        kind="robust", name=robust.name, description=robust.file.description, model=robust.file.model,
        factors=factors, base=base_parameters(robust.base, robust.file.model, robust.levers, outputs),
        outputs=spec.outputs, replicates=robust.file.replicates, seed=robust.file.seed, common_random_numbers=False,
        design={"type": "lhs", "samples": robust.file.futures},
        analysis={"bootstrap": max(robust.file.analysis.bootstrap, 100), "confidence": robust.file.analysis.confidence},
        source=robust.source, sha256=robust.sha256)
    return config, spec


def check_runset_matches(runset: RunSet, robust: RobustConfig) -> None:
    """Refuse to continue a run set made from another file (or by another command)."""
    recorded = runset.manifest.get("robust", {})
    if runset.manifest.get("kind") != "robust" or recorded.get("sha256") != robust.sha256:
        raise ConfigError(f"{runset.path}: holds a run set made from another file (or not by `lcsim robust`); "
                          "allowed: the same robustness file to continue it, or --force to start again",
                          [f"{runset.path}: made from another file"])


def run_robust(robust: RobustConfig, out: Path, *, backend: BackendSpec | str = "serial", workers: int = 1,
               chunk_size: int | None = None, command: str | None = None, progress: Any = None,
               say: Callable[[str], None] = lambda text: None) -> RobustStudy:
    """Create (or continue) the run set at ``out``, run what is missing on ``backend``, analyse, write.

    A run set at ``out`` made from the same file is continued; ``out`` must otherwise not exist.
    """
    config, spec = study_config(robust)
    backend_spec = BackendSpec.of(backend, workers)
    resumed = out.exists()
    if resumed:
        runset = RunSet.open(out)
        check_runset_matches(runset, robust)
    else:
        frame, info = first_stage(config)
        check_design(config, spec, frame)
    with make_evaluator(backend_spec, say=say) as evaluator:
        if not resumed:
            manifest = build_manifest(config, spec, command=command)
            manifest["robust"] = {"sha256": robust.sha256, "policies": robust.levers,
                                  "uncertain": {k: list(v) for k, v in robust.uncertain_ranges.items()},
                                  "overridden": robust.overridden,
                                  "outputs": {k: v.model_dump() for k, v in robust.file.outputs.items()},
                                  "analysis": robust.file.analysis.model_dump(), "futures": robust.file.futures}
            manifest["stage_info"] = info
            runset = RunSet.create(out, manifest, frame)
        with runset.lock():
            runset.update_manifest(backend=backend_spec.describe())
            execute(runset, config, spec, evaluator, chunk_size=chunk_size, progress=progress)
    study = RobustStudy(runset, failed=len(runset.failures()), resumed=resumed)
    if study.failed == 0:
        study.result, study.folder = analyse_robust(runset)
    return study


def policy_runs(runset: RunSet) -> pd.DataFrame:
    """The runs of a robustness run set as the robustness table: policy (name), future, replicate, outputs."""
    recorded = runset.manifest["robust"]
    outputs = list(recorded["outputs"])
    runs = runset.read_runs(runset.manifest["study"]["outputs"])
    frames = [pd.DataFrame({"policy": policy, "future": runs["point"], "replicate": runs["replicate"],
                            **{o: runs[output_name(policy, o)] for o in outputs}})
              for policy in recorded["policies"]]
    return pd.concat(frames, ignore_index=True)


def analyse_robust(runset: RunSet) -> tuple[Any, Path]:
    """Robustness metrics of a finished robustness run set, written to ``RUNSET/robustness/`` with figures
    (``cdf_<output>.png``, ``regret_<output>.png``)."""
    from experiments.analysis.robustness import robustness, write_robustness
    from experiments.plots import discovery as plots

    recorded = runset.manifest["robust"]
    outputs = recorded["outputs"]
    goals = {o: v["goal"] for o, v in outputs.items()}
    thresholds = {o: v["threshold"] for o, v in outputs.items() if v.get("threshold") is not None}
    result = robustness(policy_runs(runset), goals, thresholds=thresholds, policies=list(recorded["policies"]),
                        n_boot=int(recorded["analysis"]["bootstrap"]), level=float(recorded["analysis"]["confidence"]),
                        seed=int(runset.manifest["root_seed"]))

    def figures(staging: Path) -> None:
        if recorded.get("overridden"):  # say in the report which policies take an uncertain factor in hand
            lines = [f"- {policy} sets {', '.join(names)} itself (its value replaces the sampled one)"
                     for policy, names in recorded["overridden"].items()]
            with open(staging / "report.md", "a", encoding="utf-8") as report:
                report.write("\n## Policies that set an uncertain factor\n\n" + "\n".join(lines) + "\n")
        for output in goals:
            plots.save_figure(plots.plot_policy_cdf(result, output), staging / f"cdf_{output}.png")
            plots.save_figure(plots.plot_regret(result, output), staging / f"regret_{output}.png")

    folder = runset.path / ROBUSTNESS_DIR
    notes = {"overridden": recorded.get("overridden", {}), "runset": str(runset.path),
             "futures": recorded["futures"], "replicates": runset.replicates}
    write_robustness(result, folder, manifest=notes, extra=figures)
    return result, folder


def open_or_run_robust(robust: RobustConfig, out_dir: Path, *, reuse: bool = True,
                       backend: BackendSpec | str = "processes", workers: int = 1,
                       say: Callable[[str], None] = print) -> RobustStudy:
    """The analysed robustness run set of ``robust`` in ``out_dir/<name>-<first 10 digits of its sha256>``:
    run if absent, continued if incomplete, re-analysed if complete (``reuse=False`` starts again)."""
    import shutil

    folder = Path(out_dir) / f"{robust.name}-{(robust.sha256 or 'nohash')[:10]}"
    if folder.exists() and not reuse:
        check_runset_matches(RunSet.open(folder), robust)  # never deletes a folder it did not write
        shutil.rmtree(folder)
    if folder.exists():
        runset = RunSet.open(folder)
        check_runset_matches(runset, robust)
        if len(runset.done_run_ids()) == runset.n_runs:
            say(f"{robust.name}: reopened {folder} ({runset.n_runs} runs on disk)")
            result, analysis_folder = analyse_robust(runset)
            return RobustStudy(runset, result, analysis_folder, 0, True)
    runs = len(robust.levers) * robust.file.futures * robust.file.replicates
    say(f"{robust.name}: {len(robust.levers)} policies x {robust.file.futures} futures x {robust.file.replicates} "
        f"replicates = {runs} model runs -> {folder}")
    return run_robust(robust, folder, backend=backend, workers=workers, say=say)


__all__ = ["ROBUSTNESS_DIR", "RobustStudy", "analyse_robust", "check_runset_matches", "open_or_run_robust", "policy_runs", "run_robust", "study_config"]
