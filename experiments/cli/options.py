"""What every ``lcsim`` command shares: the user-mistake exit, the integer options and their help texts.

User mistakes (a bad file, a bad option value, an existing output folder) end with a message on stderr
naming the file, the field, the value and what is allowed, exit code 2, no traceback, and nothing written
to disk.  Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from experiments.execution.backends import BackendSpec

#: Exit code for every user mistake (the same code click uses for bad options).
USAGE_ERROR = 2

#: Allowed values of the integer options of `lcsim run` (checked by hand to name the value in errors).
OPTION_RANGES = {
    "replicates": (1, 1_000_000),
    "seed": (0, 2**63 - 1),
    "workers": (1, 1024),
    "chunk-size": (1, 1_000_000),
    "max-runs": (1, 10**9),
}


def fail(message: str) -> typer.Exit:
    """Print each line of a user-facing error to stderr and return the Exit to raise (code 2)."""
    for line in message.splitlines():
        typer.echo(f"error: {line}", err=True)
    return typer.Exit(USAGE_ERROR)


def option_range(option: str) -> str:
    low, high = OPTION_RANGES[option]
    return f"{low} to {high}"


def integer_option(option: str, text: str) -> int:
    """Parse an integer option; a user mistake exits 2 with the option, the value and the allowed range."""
    low, high = OPTION_RANGES[option]
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        raise fail(f"--{option} {text}: not an integer; allowed: an integer from {low} to {high}") from None
    if not low <= value <= high:
        raise fail(f"--{option} {value}: out of range; allowed: an integer from {low} to {high}")
    return value


HELP_CONFIG = ("Scenario file (e.g. configs/scenarios/baseline.toml), a shipped scenario name (baseline), or "
               "names joined by + (baseline+stable_management), each layered on the previous.")
HELP_REPLICATES = f"Replicate runs with independent seeds ({option_range('replicates')})."
HELP_SEED = f"Root seed ({option_range('seed')}); replicate i uses child i of SeedSequence(seed).spawn(N)."
HELP_OUT = "Output folder (default: results/<scenario name>)."
HELP_WORKERS = f"Worker processes, {option_range('workers')}; 1 runs serially (default: number of CPUs)."

HELP_SET = ("Override a parameter last, as name=value (repeatable), e.g. --set management_turnover_rate=0.5; "
            "checked like a value in the file and recorded in the manifest.")
HELP_BACKEND = ("Where runs execute: serial | processes | dask (default processes; dask when --scheduler or "
                "--cluster is given). dask without those starts a local Dask cluster.")
HELP_SCHEDULER = ("Address of a running Dask scheduler, e.g. tcp://127.0.0.1:8786; its workers run the chunks "
                  "(implies --backend dask; they must be able to import lcsim).")
HELP_CLUSTER = ("Cluster file (e.g. configs/cluster/slurm.toml): start Dask workers as SLURM or PBS jobs, scaled "
                "adaptively (implies --backend dask; see docs/cluster.md).")

# The backend options of every command that runs the model, declared once.
WorkersOption = Annotated[str | None, typer.Option(metavar="N", help=HELP_WORKERS, show_default=False)]
BackendOption = Annotated[str | None, typer.Option(metavar="NAME", help=HELP_BACKEND, show_default=False)]
SchedulerOption = Annotated[str | None, typer.Option(metavar="ADDRESS", help=HELP_SCHEDULER, show_default=False)]
ClusterOption = Annotated[Path | None, typer.Option(metavar="FILE", help=HELP_CLUSTER, show_default=False)]


def backend_spec(name: str | None, workers: str | None, scheduler: str | None, cluster: Path | None) -> BackendSpec:
    """Check ``--backend``, ``--workers``, ``--scheduler`` and ``--cluster`` together (before anything is created)
    and combine them into the spec every command hands to the engine."""
    from experiments.config.cluster import load_cluster_config
    from experiments.config.reading import ConfigError
    from experiments.execution.backends import BACKENDS, BackendSpec, scheduler_address_problem
    from experiments.execution.replicates import default_workers

    if scheduler is not None and cluster is not None:
        raise fail(f"--scheduler {scheduler} and --cluster {cluster} exclude each other; allowed: --scheduler for "
                   "a running Dask scheduler, or --cluster to start workers as SLURM/PBS jobs")
    remote = f"--scheduler {scheduler}" if scheduler is not None else f"--cluster {cluster}" if cluster else None
    if name is not None and name not in BACKENDS:
        raise fail(f"--backend {name}: unknown backend; allowed: {', '.join(BACKENDS)}")
    if remote and name not in (None, "dask"):
        raise fail(f"--backend {name} with {remote}: a scheduler or cluster file runs the dask backend; allowed: "
                   "--backend dask, or no --backend")
    name = name or ("dask" if remote else "processes")
    n_workers = None if workers is None else integer_option("workers", workers)
    if remote and n_workers is not None:
        raise fail(f"--workers {n_workers} with {remote}: the number of workers is the scheduler's or the cluster "
                   "file's (maximum_jobs x processes); allowed: leave out --workers")
    if scheduler is not None:
        problem = scheduler_address_problem(scheduler)
        if problem:
            raise fail(f"--scheduler {scheduler}: {problem}")
    if cluster is not None:
        try:
            load_cluster_config(cluster)
        except ConfigError as exc:
            raise fail(str(exc)) from None
    used = 1 if name == "serial" else (n_workers or default_workers())
    return BackendSpec(name, used, scheduler, None if cluster is None else str(cluster))
