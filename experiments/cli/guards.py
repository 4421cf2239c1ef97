"""How every long-running command stops: Ctrl-C and SIGTERM (one line, exit 130 / 143, resumable) and OS errors
while writing (a full disk: one line, exit 1, whole files only)."""

from __future__ import annotations

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


__all__ = ["interruptible", "os_errors"]
