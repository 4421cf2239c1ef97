"""A battery of careful users' mistakes (issue 14's rerun list), each held to the same rule as scikit-learn's
``check_estimator`` holds an estimator: exit code 2, one message that names the file (or option), the field
and the value and says what is allowed, no traceback, and nothing written.

Each row is a mistake seen in use or one step from it.  ``expect`` holds the words the message must
contain (besides ``error:`` and ``allowed``); a row whose command starts fine and fails later would
not pass, because nothing may be written.  Kept fast: every mistake is caught before a run starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from experiments.cli import app

runner = CliRunner()

SCENARIO = 'name = "mine"\n[parameters]\nhorizon_months = 12\n'
SWEEP = ('name = "sw"\nscenario = "configs/scenarios/baseline.toml"\ndesign = "lhs"\nreplicates = 1\nseed = 1\n'
         'factors = ["subsidy_share"]\n[lhs]\nsamples = 4\n')
MORRIS = ('name = "mo"\nmodel = "ishigami"\nmethod = "morris"\nreplicates = 1\nseed = 1\n'
          '[morris]\ntrajectories = 10\nlevels = 4\n')
CLUSTER = ('[cluster]\nkind = "slurm"\ncores = 2\nmemory = "2GiB"\nwalltime = "01:00:00"\nminimum_jobs = 0\n'
           'maximum_jobs = 2\n')
ROBUST = ('name = "rb"\nmodel = "lcsim"\nuncertain = ["subsidy_share"]\nfutures = 4\nreplicates = 2\nseed = 1\n'
          '[policies]\nbase = "configs/scenarios/baseline.toml"\nstable = "configs/scenarios/stable_management.toml"\n'
          '[outputs.faded_share]\ngoal = "min"\n')


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (id, files written into the folder, command, words the message must contain)
CASES = [
    # ---------------------------------------------------------------- scenario files (lcsim run)
    ("scenario-missing-name", {"s.toml": "[parameters]\nhorizon_months = 12\n"}, "run s.toml", ["s.toml", "'name'"]),
    ("scenario-bad-name", {"s.toml": 'name = "a b"\n'}, "run s.toml", ["s.toml", "'name'", '"a b"']),
    ("scenario-unknown-parameter", {"s.toml": edit(SCENARIO, "horizon_months", "horizon_month")}, "run s.toml",
     ["s.toml", "horizon_month", "horizon_months"]),
    ("scenario-value-out-of-range", {"s.toml": SCENARIO + "subsidy_share = 1.5\n"}, "run s.toml",
     ["s.toml", "subsidy_share", "1.5"]),
    ("scenario-wrong-type", {"s.toml": SCENARIO + 'subsidy_share = "half"\n'}, "run s.toml",
     ["s.toml", "subsidy_share", "half"]),
    ("scenario-integer-as-float", {"s.toml": edit(SCENARIO, "= 12", "= 12.5")}, "run s.toml",
     ["s.toml", "horizon_months", "12.5"]),
    ("scenario-unknown-top-level-key", {"s.toml": SCENARIO.replace("[parameters]", "seed = 3\n[parameters]")},
     "run s.toml", ["s.toml", "seed"]),
    ("scenario-bad-toml", {"s.toml": 'name = "x\n'}, "run s.toml", ["s.toml"]),
    ("scenario-not-found", {}, "run nothing_like_this.toml", ["nothing_like_this"]),
    ("scenario-extends-missing", {"s.toml": 'name = "s"\nextends = "no_such_scenario"\n'}, "run s.toml",
     ["s.toml", "extends", "no_such_scenario"]),
    ("scenario-extends-wrong-type", {"s.toml": 'name = "s"\nextends = 3\n'}, "run s.toml", ["s.toml", "extends"]),
    ("scenario-shares-above-one", {"s.toml": SCENARIO + "simple_question_share = 0.8\ncomplex_question_share = 0.5\n"},
     "run s.toml", ["s.toml", "complex_question_share"]),
    ("scenario-empty-composition", {"s.toml": SCENARIO}, "run s.toml+", ["'+'"]),
    ("sweep-file-given-to-run", {"sw.toml": SWEEP}, "run sw.toml", ["sw.toml", "lcsim sweep"]),
    # ---------------------------------------------------------------- options of lcsim run / compare / validate
    ("run-replicates-not-a-number", {"s.toml": SCENARIO}, "run s.toml --replicates many", ["--replicates", "many"]),
    ("run-replicates-zero", {"s.toml": SCENARIO}, "run s.toml --replicates 0", ["--replicates", "0"]),
    ("run-seed-negative", {"s.toml": SCENARIO}, "run s.toml --seed -4", ["--seed", "-4"]),
    ("run-workers-zero", {"s.toml": SCENARIO}, "run s.toml --workers 0", ["--workers", "0"]),
    ("run-unknown-backend", {"s.toml": SCENARIO}, "run s.toml --backend gpu", ["--backend", "gpu"]),
    ("run-bad-scheduler-address", {"s.toml": SCENARIO}, "run s.toml --backend dask --scheduler nowhere:x",
     ["--scheduler", "nowhere:x"]),
    ("run-set-without-value", {"s.toml": SCENARIO}, "run s.toml --set subsidy_share", ["--set", "subsidy_share"]),
    ("run-set-unknown-name", {"s.toml": SCENARIO}, "run s.toml --set subsidy_shares=0.5", ["--set", "subsidy_shares"]),
    ("run-set-out-of-range", {"s.toml": SCENARIO}, "run s.toml --set subsidy_share=2", ["--set", "subsidy_share"]),
    ("run-above-max-runs", {"s.toml": SCENARIO}, "run s.toml --replicates 50 --max-runs 10", ["--max-runs", "50"]),
    ("compare-one-scenario", {"s.toml": SCENARIO}, "compare s.toml", ["compare", "two or more"]),
    ("compare-same-names", {"s.toml": SCENARIO}, "compare s.toml s.toml", ["compare", "mine"]),
    ("compare-unknown-reference", {"s.toml": SCENARIO, "t.toml": edit(SCENARIO, "mine", "yours")},
     "compare s.toml t.toml --reference theirs", ["--reference", "theirs"]),
    ("validate-replicates-zero", {}, "validate --replicates 0", ["--replicates", "0"]),
    # ---------------------------------------------------------------- sweep files
    ("sweep-unknown-design", {"sw.toml": edit(SWEEP, '"lhs"', '"grid"')}, "sweep sw.toml", ["sw.toml", "design", "grid"]),
    ("sweep-unknown-factor", {"sw.toml": edit(SWEEP, '"subsidy_share"', '"subsidy_shares"')}, "sweep sw.toml",
     ["sw.toml", "subsidy_shares", "subsidy_share"]),
    ("sweep-factor-twice", {"sw.toml": edit(SWEEP, '["subsidy_share"]', '["subsidy_share", "subsidy_share"]')},
     "sweep sw.toml", ["sw.toml", "more than once"]),
    ("sweep-zero-samples", {"sw.toml": edit(SWEEP, "samples = 4", "samples = 0")}, "sweep sw.toml",
     ["sw.toml", "samples", "0"]),
    ("sweep-replicates-zero", {"sw.toml": edit(SWEEP, "replicates = 1", "replicates = 0")}, "sweep sw.toml",
     ["sw.toml", "replicates", "0"]),
    ("sweep-negative-seed", {"sw.toml": edit(SWEEP, "seed = 1", "seed = -1")}, "sweep sw.toml", ["sw.toml", "seed"]),
    ("sweep-range-reversed", {"sw.toml": SWEEP + "[ranges]\nsubsidy_share = [0.9, 0.1]\n"}, "sweep sw.toml",
     ["sw.toml", "[ranges]", "subsidy_share", "low must be below high"]),
    ("sweep-range-beyond-valid", {"sw.toml": SWEEP + "[ranges]\nsubsidy_share = [0.5, 7]\n"}, "sweep sw.toml",
     ["sw.toml", "[ranges]", "subsidy_share"]),
    ("sweep-range-of-unvaried", {"sw.toml": SWEEP + "[ranges]\nexternal_stress = [0.1, 0.2]\n"}, "sweep sw.toml",
     ["sw.toml", "external_stress", "not a varied factor"]),
    ("sweep-factor-also-fixed", {"sw.toml": SWEEP + "[parameters]\nsubsidy_share = 0.5\n"}, "sweep sw.toml",
     ["sw.toml", "subsidy_share", "also varied"]),
    ("sweep-unknown-output", {"sw.toml": edit(SWEEP, "[lhs]", 'outputs = ["happiness"]\n[lhs]')}, "sweep sw.toml",
     ["sw.toml", "happiness"]),
    ("sweep-unknown-model", {"sw.toml": edit(SWEEP, 'design', 'model = "lcsimm"\ndesign')}, "sweep sw.toml",
     ["sw.toml", "lcsimm"]),
    ("sweep-scenario-not-found", {"sw.toml": edit(SWEEP, "configs/scenarios/baseline.toml", "nope.toml")},
     "sweep sw.toml", ["sw.toml", "scenario", "nope.toml"]),
    ("sweep-levels-missing", {"sw.toml": edit(SWEEP, 'design = "lhs"', 'design = "factorial"').replace(
        "[lhs]\nsamples = 4\n", "")}, "sweep sw.toml", ["sw.toml", "[levels]", "subsidy_share"]),
    ("sweep-one-level", {"sw.toml": edit(SWEEP, 'design = "lhs"', 'design = "factorial"').replace(
        "[lhs]\nsamples = 4\n", "[levels]\nsubsidy_share = [0.5]\n")}, "sweep sw.toml", ["sw.toml", "single level"]),
    ("sweep-levels-repeat", {"sw.toml": edit(SWEEP, 'design = "lhs"', 'design = "factorial"').replace(
        "[lhs]\nsamples = 4\n", "[levels]\nsubsidy_share = [0.5, 0.5]\n")}, "sweep sw.toml", ["sw.toml", "repeats"]),
    ("sweep-with-a-morris-table", {"sw.toml": SWEEP + "[morris]\ntrajectories = 4\n"}, "sweep sw.toml",
     ["sw.toml", "lcsim sensitivity"]),
    ("sweep-year5-on-short-horizon", {"sw.toml": edit(SWEEP, "[lhs]", 'outputs = ["continued_by_school_y5"]\n'
                                                      "[lhs]") + "[parameters]\nhorizon_months = 24\n"},
     "sweep sw.toml", ["sw.toml", "continued_by_school_y5", "horizon_months"]),
    ("sweep-chunk-size-zero", {"sw.toml": SWEEP}, "sweep sw.toml --chunk-size 0", ["--chunk-size", "0"]),
    ("sweep-above-max-runs", {"sw.toml": SWEEP}, "sweep sw.toml --max-runs 2", ["--max-runs", "4"]),
    ("sensitivity-file-given-to-sweep", {"mo.toml": MORRIS}, "sweep mo.toml", ["mo.toml", "lcsim sensitivity"]),
    # ---------------------------------------------------------------- sensitivity files
    ("morris-odd-levels", {"mo.toml": edit(MORRIS, "levels = 4", "levels = 5")}, "sensitivity mo.toml",
     ["mo.toml", "levels", "5"]),
    ("morris-one-trajectory", {"mo.toml": edit(MORRIS, "trajectories = 10", "trajectories = 1")},
     "sensitivity mo.toml", ["mo.toml", "trajectories"]),
    ("unknown-method", {"mo.toml": edit(MORRIS, '"morris"', '"fast"')}, "sensitivity mo.toml", ["mo.toml", "fast"]),
    ("sobol-base-not-power-of-two", {"so.toml": edit(MORRIS, '"morris"', '"sobol"').replace(
        "[morris]\ntrajectories = 10\nlevels = 4\n", "[sobol]\nbase_samples = 100\n")}, "sensitivity so.toml",
     ["so.toml", "base_samples", "100"]),
    ("analysis-bad-confidence", {"mo.toml": MORRIS + "[analysis]\nconfidence = 95\n"}, "sensitivity mo.toml",
     ["mo.toml", "confidence", "95"]),
    ("analysis-unknown-key", {"mo.toml": MORRIS + "[analysis]\nbootstraps = 100\n"}, "sensitivity mo.toml",
     ["mo.toml", "bootstraps", "bootstrap"]),
    ("sweep-file-given-to-sensitivity", {"sw.toml": SWEEP}, "sensitivity sw.toml", ["sw.toml", "lcsim sweep"]),
    # ---------------------------------------------------------------- cluster files
    ("cluster-unknown-kind", {"sw.toml": SWEEP, "c.toml": edit(CLUSTER, '"slurm"', '"condor"')},
     "sweep sw.toml --backend dask --cluster c.toml", ["c.toml", "kind", "condor"]),
    ("cluster-bad-memory", {"sw.toml": SWEEP, "c.toml": edit(CLUSTER, '"2GiB"', '"lots"')},
     "sweep sw.toml --backend dask --cluster c.toml", ["c.toml", "memory", "lots"]),
    ("cluster-bad-walltime", {"sw.toml": SWEEP, "c.toml": edit(CLUSTER, '"01:00:00"', '"1h"')},
     "sweep sw.toml --backend dask --cluster c.toml", ["c.toml", "walltime", "1h"]),
    ("cluster-more-processes-than-cores", {"sw.toml": SWEEP, "c.toml": CLUSTER.replace("cores = 2", "cores = 2\n"
                                                                                       "processes = 4")},
     "sweep sw.toml --backend dask --cluster c.toml", ["c.toml", "processes", "cores"]),
    ("cluster-jobs-reversed", {"sw.toml": SWEEP, "c.toml": edit(CLUSTER, "minimum_jobs = 0", "minimum_jobs = 5")},
     "sweep sw.toml --backend dask --cluster c.toml", ["c.toml", "maximum_jobs", "minimum_jobs"]),
    ("cluster-zero-start-timeout", {"sw.toml": SWEEP, "c.toml": CLUSTER + "start_timeout = 0\n"},
     "sweep sw.toml --backend dask --cluster c.toml", ["c.toml", "start_timeout", "0"]),
    ("cluster-unknown-field", {"sw.toml": SWEEP, "c.toml": CLUSTER + "gpus = 1\n"},
     "sweep sw.toml --backend dask --cluster c.toml", ["c.toml", "gpus"]),
    ("cluster-file-missing", {"sw.toml": SWEEP}, "sweep sw.toml --backend dask --cluster none.toml",
     ["none.toml", "cluster file not found"]),
    # ---------------------------------------------------------------- robust files
    ("robust-unknown-uncertain", {"rb.toml": edit(ROBUST, '["subsidy_share"]', '["subsidy_shares"]')},
     "robust rb.toml", ["rb.toml", "subsidy_shares"]),
    ("robust-zero-futures", {"rb.toml": edit(ROBUST, "futures = 4", "futures = 0")}, "robust rb.toml",
     ["rb.toml", "futures", "0"]),
    ("robust-one-policy", {"rb.toml": ROBUST.replace('stable = "configs/scenarios/stable_management.toml"\n', "")},
     "robust rb.toml", ["rb.toml", "'policies'", "1 entry", "at least 2"]),
    ("robust-policy-not-found", {"rb.toml": edit(ROBUST, "configs/scenarios/baseline.toml", "nope.toml")},
     "robust rb.toml", ["rb.toml", "nope.toml"]),
    # ---------------------------------------------------------------- folders given to the wrong command
    ("resume-not-a-run-set", {"s.toml": SCENARIO}, "resume .", ["resume"]),
    ("discover-not-a-run-set", {"s.toml": SCENARIO}, "discover . --output y --above 0.5", ["not a run set"]),
]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("files", "command", "expect"), [pytest.param(f, c, e, id=i) for i, f, c, e in CASES])
def test_a_mistake_gets_exit_2_one_clear_message_and_nothing_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], command: str, expect: list[str]) -> None:
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    result = runner.invoke(app, command.split())
    output = result.output
    assert result.exit_code == 2, output
    assert "Traceback" not in output and result.exception is None or isinstance(result.exception, SystemExit), output
    assert output.lstrip().startswith(("error:", "Usage:")), output
    missing = [word for word in expect if word not in output]
    assert not missing, (missing, output)
    assert "allowed" in output or "use: lcsim" in output or "Usage:" in output, output
    assert snapshot(tmp_path) == before, "a refused command wrote files"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files), "a refused command created a folder"


def test_the_battery_covers_every_command_that_reads_a_file() -> None:
    commands = {command.split()[0] for _, _, command, _ in CASES}
    assert {"run", "compare", "validate", "sweep", "sensitivity", "robust", "resume", "discover"} <= commands
