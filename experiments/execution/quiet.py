"""Worker processes leave Ctrl-C to the parent.

Ctrl-C in a terminal sends SIGINT to the whole process group, local workers included; a worker would die
with a KeyboardInterrupt traceback that hides the parent's one "interrupted, resume with ..." line.  A task
wrapped in :class:`QuietTask` is unpickled in the worker by importing this small module first, which makes the
worker ignore SIGINT before anything slow (the model's imports) happens; the parent stops the work and shuts
the pool down.  Nothing here changes what a task computes.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable
from typing import Any


def ignore_interrupts_in_a_worker() -> None:
    """In a child process's main thread: ignore SIGINT (the parent handles Ctrl-C); elsewhere nothing."""
    if multiprocessing.parent_process() is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


ignore_interrupts_in_a_worker()  # at import: unpickling a QuietTask imports this module before the task's own


class QuietTask:
    """A picklable task ``fn`` run with SIGINT ignored in worker processes."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ignore_interrupts_in_a_worker()
        return self.fn(*args, **kwargs)

    def __getstate__(self) -> tuple[Callable[..., Any]]:
        return (self.fn,)

    def __setstate__(self, state: tuple[Callable[..., Any]]) -> None:
        self.fn = state[0]


__all__ = ["QuietTask", "ignore_interrupts_in_a_worker"]
