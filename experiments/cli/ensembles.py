"""The life of an ``lcsim run`` / ``compare`` / ``validate`` folder: create its run set, run it, build the final
folder from the stored parts; and ``lcsim resume`` of such a folder.

Where it runs: the output folder itself when it does not exist yet; with ``--force`` onto an earlier result,
``.NAME.next`` beside it, swapped in only when complete (the earlier result stays until then).  Ctrl-C and
SIGTERM stop with one line (exit 130 / 143) and ``lcsim resume OUT`` finishes the job; an OS error while
writing (a full disk) gives one line and exit 1.  The result equals an uninterrupted one row for row: every
run carries its own seed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from sim import Params
from experiments.cli.guards import interruptible, os_errors
from experiments.cli.options import fail
from experiments.execution.backends import BackendError, BackendSpec
from experiments.store.ensemble import EnsembleError, EnsembleRunSet, next_folder
from experiments.store.folders import busy_message, folder_kind, lock_state

#: Builds the final folder from a complete run set (inside ``runset.path``), prints the result; returns the exit code.
Finisher = Callable[[EnsembleRunSet], int]


def unfinished_hint(out: Path) -> str:
    """For "the folder exists" errors: how to continue an unfinished run there."""
    for folder in (Path(out), next_folder(out)):
        manifest = EnsembleRunSet.read_manifest(folder)
        if manifest is not None and manifest.get("state") == "running":
            return f"; it holds an unfinished run: continue it with `lcsim resume {out}`"
    return ""


def _work_folder(out: Path) -> Path:
    if not out.exists():
        return out
    work = next_folder(out)
    if work.exists():  # a replacement an earlier command left unfinished: started again, unless it is live
        state, holder = lock_state(work)
        if state in ("live", "unsure"):
            raise fail(f"--out {busy_message(work, state, holder)}; nothing was deleted")
        shutil.rmtree(work)
    return work


@contextmanager
def _backend_errors(out: Path) -> Iterator[None]:
    try:
        yield
    except BackendError as exc:
        typer.echo(f"error: {exc}", err=True)
        typer.echo(f"finished runs are kept; continue with: lcsim resume {out}", err=True)
        raise typer.Exit(1) from None


def _progress(total: int, done: int, label: str, show: bool):
    from experiments.execution.replicates import progress_bar

    @contextmanager
    def bar() -> Iterator[Callable[[int], None]]:
        with progress_bar(total, label, show) as on_done:
            if done:
                on_done(done)
            yield on_done

    return bar()


def _complete(runset: EnsembleRunSet, evaluator: Any, finisher: Finisher, label: str, show: bool) -> int:
    """Run what is missing, build the final folder, drop the parts (the caller holds the lock)."""
    from experiments.execution.ensemble import execute_ensemble

    with _progress(runset.n_runs, len(runset.done_run_ids()), label, show) as on_done:
        execute_ensemble(runset, evaluator, on_done=on_done)
    code = finisher(runset)
    runset.remove_work_files()
    return code


def _swap_if_beside(runset: EnsembleRunSet, out: Path) -> None:
    if runset.path != out:
        from experiments.store.atomic import swap_in

        swap_in(runset.path, out)


def run_ensemble_command(kind: str, out: Path, points: Mapping[str, Params], replicates: int, root_seed: int,
                         spec: BackendSpec, *, manifest: Mapping[str, Any], finisher: Finisher, label: str,
                         show_progress: bool) -> int:
    """Create the run set of ``points`` x ``replicates`` for ``out``, run it on ``spec``, build the final folder."""
    from experiments.execution.ensemble import ensemble_study, evaluator_for

    out = Path(out)
    work = _work_folder(out)
    study = ensemble_study(points, replicates, root_seed)
    with os_errors(out), interruptible(out), _backend_errors(out):
        with evaluator_for(spec, spec.workers, len(points) * replicates) as evaluator:
            runset = EnsembleRunSet.create(work, kind, study, {**manifest, "target": str(out)})
            with runset.lock():
                code = _complete(runset, evaluator, finisher, label, show_progress)
        _swap_if_beside(runset, out)
    return code


def is_ensemble_folder(directory: Path) -> bool:
    """Whether ``lcsim resume DIR`` means an ``lcsim run``/``compare``/``validate`` folder (new or old format)."""
    directory = Path(directory)
    if EnsembleRunSet.read_manifest(directory) is not None or EnsembleRunSet.read_manifest(next_folder(directory)):
        return True
    return folder_kind(directory) in ("run", "comparison", "validation")


def resume_ensemble(directory: Path, spec: BackendSpec, finishers: Mapping[str, Finisher], *, repair: bool = False,
                    show_progress: bool = True) -> int:
    """Finish the unfinished run of ``directory`` (or of its ``.NAME.next`` replacement); returns the exit code."""
    import shlex
    import sys

    from experiments.execution.ensemble import evaluator_for
    from experiments.store.manifest import git_state, utc_now

    directory = Path(directory)
    work = directory
    manifest = EnsembleRunSet.read_manifest(directory)
    beside = EnsembleRunSet.read_manifest(next_folder(directory))
    if beside is not None and (manifest is None or manifest.get("state") == "finished"):
        work, manifest = next_folder(directory), beside
    if manifest is None:
        kind = folder_kind(directory)
        raise fail(f"{directory}: an {kind} folder written by an earlier version of lcsim (no run parts, format "
                   "before lcsim-ensemble/1); it cannot be resumed; allowed: run its command again (see "
                   f"'reproduce' or 'command' in {directory / 'manifest.json'})")
    if manifest.get("state") == "finished":
        typer.echo(f"{directory}: already complete; nothing to resume", err=True)
        return 0
    try:
        runset = EnsembleRunSet.open(work)
    except EnsembleError as exc:
        raise fail(f"cannot resume: {exc}") from None
    target = Path(manifest.get("target") or directory)
    finisher = finishers[manifest["kind"]]
    with os_errors(directory), interruptible(directory), _backend_errors(directory):
        try:
            lock = runset.lock(say=lambda text: typer.echo(text, err=True))
            lock.__enter__()
        except EnsembleError as exc:
            raise fail(str(exc)) from None
        try:
            bad = runset.check_parts()
            if bad and not repair:
                lines = "\n".join(f"{path.relative_to(runset.path)}: {reason}" for path, reason in bad[:10])
                raise fail(f"{runset.path}: {len(bad)} bad part(s):\n{lines}\nallowed: `lcsim resume {directory} "
                           "--repair` moves them to quarantine/ and runs exactly their runs again")
            for line in runset.quarantine(bad):
                typer.echo(f"repair: {line}", err=True)
            git = git_state()
            runset.update_manifest(resumed=[*runset.manifest.get("resumed", []), {
                "utc": utc_now(), "command": shlex.join(sys.argv), "git_commit": git["commit"],
                "git_dirty": git["dirty"], "backend": spec.describe()}])
            done = len(runset.done_run_ids())
            typer.echo(f"{directory}: {done} of {runset.n_runs} runs on disk; resuming", err=True)
            label = f"{len(runset.point_names)} x {runset.replicates} replicates ({spec.label()})"
            with evaluator_for(spec, spec.workers, max(1, runset.n_runs - done)) as evaluator:
                code = _complete(runset, evaluator, finisher, label, show_progress)
        except BaseException:
            lock.__exit__(None, None, None)
            raise
        lock.__exit__(None, None, None)
        _swap_if_beside(runset, target)
    return code


__all__ = ["Finisher", "is_ensemble_folder", "resume_ensemble", "run_ensemble_command", "unfinished_hint"]
