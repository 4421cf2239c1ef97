"""How every long-running command stops: Ctrl-C and SIGTERM (one line, exit 130 / 143, resumable) and OS errors
while writing (a full disk: one line, exit 1, whole files only); and how ``--force`` replaces an earlier run set
only once the new one is complete."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer


@contextmanager
def interruptible(path: Path) -> Iterator[None]:
    """Ctrl-C (exit 130) and SIGTERM (exit 143, e.g. `kill` or a scheduler's time limit) both stop the work
    with its finished runs kept, resumable.  SIGTERM is turned into the same KeyboardInterrupt in the main
    thread, so the backends shut their workers down the same way."""
    import signal
    import threading

    terminated = False

    def on_term(signum, frame):
        nonlocal terminated
        terminated = True
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_term) if main else None
    try:
        yield
    except KeyboardInterrupt:
        what = "terminated (SIGTERM)" if terminated else "interrupted"
        typer.echo(f"{what}; finished runs are kept in {path}. Continue with: lcsim resume {path}", err=True)
        raise typer.Exit(143 if terminated else 130) from None
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


@contextmanager
def os_errors(path: Path, resumable: bool = True) -> Iterator[None]:
    """A full disk or another OS error while writing: one line (what, where, how to go on), exit 1.

    Every file is written whole or not at all (experiments.store.atomic), so the runs already on disk stay valid.
    """
    try:
        yield
    except OSError as exc:
        import errno

        where = exc.filename or path
        what = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or type(exc).__name__)
        then = (f"free space and run `lcsim resume {path}`" if resumable else
                f"free space and run the command again ({path} is unchanged)")
        if exc.errno != errno.ENOSPC:
            then = then.replace("free space", "fix the cause")
        typer.echo(f"error: {what} while writing {where}; finished runs are kept whole; {then}", err=True)
        raise typer.Exit(1) from None



@contextmanager
def replacing(out: Path) -> Iterator[Path]:
    """Yield where the new run set is built: ``out`` itself if it does not exist; else (``--force`` onto an
    earlier run set) a hidden folder beside it, swapped in only when the study is complete, while the old
    one is held locked so that a second writer is refused.  If the new study does not complete, the hidden
    folder is removed and ``out`` is left unchanged."""
    if not out.exists():
        yield out
        return
    from experiments.cli.options import fail
    from experiments.execution.backends import BackendError
    from experiments.store.atomic import swap_in
    from experiments.store.folders import staging_path
    from experiments.store.runset import RunSet, RunSetBusyError

    staging = staging_path(out, "replacing")
    try:
        with RunSet(out, {}).lock():
            try:
                yield staging
            except KeyboardInterrupt:
                shutil.rmtree(staging, ignore_errors=True)
                typer.echo(f"interrupted; nothing was replaced: {out} is unchanged", err=True)
                raise typer.Exit(130) from None
            except BackendError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                typer.echo(f"error: {exc}", err=True)
                typer.echo(f"nothing was replaced: {out} is unchanged", err=True)
                raise typer.Exit(1) from None
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            swap_in(staging, out)
    except RunSetBusyError as exc:
        raise fail(f"--out {exc}; nothing was deleted") from None


__all__ = ["interruptible", "os_errors", "replacing"]
