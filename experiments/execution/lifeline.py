"""Process-pool workers that never outlive the command that started them (issue 14, item 4).

A ``spawn`` worker of the process pool is a child of the ``lcsim`` process.  When that process is killed
with SIGKILL it runs no clean-up, and the pool's workers went on running (about 166 MB each), holding the
command's output pipes open, until long after their chunks ended.  The watch here is a daemon thread in
each worker that polls its parent's pid; once the parent is gone the worker is re-parented (its
``os.getppid()`` changes) and it exits at once with :data:`ORPHAN_EXIT_CODE`.  (The worker processes of a
local Dask cluster need none: distributed's own nanny machinery ends them; tests/test_worker_lifetime.py
checks both.)

Polling is used rather than Linux's ``prctl(PR_SET_PDEATHSIG)`` because it works the same on Linux and macOS,
and because a death signal fires when the parent *thread* that forked the worker ends (the pool's
management thread), not the process.  The cost is one system call every :data:`POLL_SECONDS`.
"""

from __future__ import annotations

import os
import threading
import time

#: Seconds between two looks at the parent's pid: a killed command's workers are gone within about this long.
POLL_SECONDS = 0.5

#: Exit code of a worker that found its parent gone (EX_SOFTWARE of sysexits.h: nobody reads it).
ORPHAN_EXIT_CODE = 70


def watch_parent(parent_pid: int, poll_seconds: float = POLL_SECONDS) -> None:
    """Start the watch in this process: exit at once when ``parent_pid`` is no longer this process's parent.

    Used as the ``initializer`` of the process pool (``initargs=(os.getpid(),)`` in the parent).  Does
    nothing if the parent is already gone by the time the worker starts (it then exits too).
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_seconds)
        os._exit(ORPHAN_EXIT_CODE)  # no clean-up on purpose: the parent that would read the results is gone

    threading.Thread(target=watch, name="lcsim-parent-watch", daemon=True).start()


__all__ = ["ORPHAN_EXIT_CODE", "POLL_SECONDS", "watch_parent"]
