"""Cluster files: how ``lcsim sweep --cluster FILE`` asks SLURM or PBS for Dask workers.

A cluster file is TOML with one table::

    [cluster]
    kind = "slurm"                 # or "pbs"
    cores = 4                      # CPU cores per job
    processes = 4                  # Dask worker processes per job (one thread each when equal to cores)
    memory = "8GiB"                # memory per job
    walltime = "02:00:00"          # HH:MM:SS per job
    minimum_jobs = 1               # adaptive scaling between these two
    maximum_jobs = 8
    job_script_prologue = ["source /shared/lcsim/.venv/bin/activate"]

Every field is described in :class:`ClusterConfig` (and in docs/cluster.md).  Problems are reported at
once as an :class:`experiments.config.scenario.ConfigError` whose lines name the file, the field, the value and
what is allowed; pydantic's own messages are never shown raw.  This module imports neither dask nor
dask-jobqueue: :mod:`experiments.execution.dask` turns a validated config into a cluster.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from experiments.config.reading import (
    ConfigError, parse_toml, read_config_bytes, resolve_reference, show_value, suggest, toml_type,
)

KINDS = ("slurm", "pbs")

#: dask's byte units (dask.utils.parse_bytes accepts these and more); a space is allowed before the unit.
_MEMORY = r"^[0-9]+(\.[0-9]+)?\s?(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$"
#: Hours may exceed 24 (some queues allow days); minutes and seconds are two digits below 60.
_WALLTIME = r"^[0-9]{1,4}:[0-5][0-9]:[0-5][0-9]$"
_TIME_PARTS = re.compile(r"^(\d+):(\d\d):(\d\d)$")


def _field(default: Any = ..., *, description: str, allowed: str, **kwargs: Any) -> Any:
    """A pydantic field whose description documents it and whose ``allowed`` text goes into error messages."""
    return Field(default, description=description, json_schema_extra={"allowed": allowed}, **kwargs)


class ClusterConfig(BaseModel):
    """One kind of batch job, each running ``processes`` Dask workers, scaled between two job counts."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    kind: Literal["slurm", "pbs"] = _field(
        description="Batch system: 'slurm' (dask_jobqueue.SLURMCluster, sbatch) or 'pbs' (PBSCluster, qsub).",
        allowed='"slurm" or "pbs"')
    cores: int = _field(
        description="CPU cores requested per job.", allowed="an integer from 1 to 1024", ge=1, le=1024)
    processes: int = _field(
        None, description="Dask worker processes per job (default: cores, i.e. one single-threaded worker per "
        "core: the model holds the GIL, so threads would not run runs in parallel).",
        allowed="an integer from 1 to cores", ge=1, le=1024)
    memory: str = _field(
        description="Memory requested per job, shared by its worker processes (dask units, e.g. '8GiB', '500MB').",
        allowed='a size such as "2GiB", "8GB" or "500MiB"', pattern=_MEMORY)
    walltime: str = _field(
        description="Wall-clock limit per job, HH:MM:SS. Workers retire gracefully a few minutes before it, and "
        "adaptive scaling starts replacement jobs.", allowed='a duration "HH:MM:SS" such as "02:00:00"',
        pattern=_WALLTIME)
    queue: str | None = _field(
        None, description="Partition (SLURM) or queue (PBS) to submit to (default: the site's default).",
        allowed="a partition or queue name (string)", min_length=1)
    account: str | None = _field(
        None, description="Account or project charged for the jobs (sbatch -A / qsub -A).",
        allowed="an account name (string)", min_length=1)
    minimum_jobs: int = _field(
        1, description="Jobs kept running even when idle (adaptive scaling's floor; 0 lets the cluster empty).",
        allowed="an integer from 0 to 10000", ge=0, le=10_000)
    maximum_jobs: int = _field(
        description="Most jobs at once (adaptive scaling's ceiling); workers = maximum_jobs x processes.",
        allowed="an integer from 1 to 10000, at least minimum_jobs", ge=1, le=10_000)
    python: str | None = _field(
        None, description="Python interpreter on the compute nodes that has lcsim installed (default: the "
        "interpreter running lcsim, which is right when its virtualenv is on shared storage).",
        allowed="a path to a Python executable (string)", min_length=1)
    job_name: str = _field(
        "lcsim-dask", description="Name of the batch jobs (shown by squeue / qstat).",
        allowed="a job name (string of letters, digits, '_', '-', '.')", pattern=r"^[A-Za-z0-9_.-]+$")
    job_extra_directives: list[str] = _field(
        default_factory=list, description="Extra lines for the job header, e.g. ['--qos=short'] "
        "(SLURM: written as '#SBATCH --qos=short') or ['-l place=scatter'] (PBS).",
        allowed="a list of strings")
    job_script_prologue: list[str] = _field(
        default_factory=list, description="Shell lines run before the worker starts, e.g. "
        "['module load python/3.11', 'source /shared/lcsim/.venv/bin/activate'].", allowed="a list of strings")
    local_directory: str | None = _field(
        None, description="Node-local scratch folder for the workers' spill files (e.g. '$TMPDIR'); default: "
        "dask's default (a folder under the worker's working directory).", allowed="a folder path (string)",
        min_length=1)
    log_directory: str | None = _field(
        None, description="Folder for the jobs' stdout/stderr files (default: the submit directory).",
        allowed="a folder path (string)", min_length=1)
    interface: str | None = _field(
        None, description="Network interface the workers (and, unless scheduler_host is set, the scheduler) "
        "listen on, e.g. 'ib0' or 'eth0' (default: the host's default address).",
        allowed="an interface name (string) such as \"ib0\"", min_length=1)
    scheduler_host: str | None = _field(
        None, description="Address the scheduler (run by lcsim on the submit host) listens on; the compute "
        "nodes must reach it (default: from 'interface', else the host's default address).",
        allowed="a host name or IP address (string)", min_length=1)
    scheduler_port: int = _field(
        0, description="Scheduler port (0: any free port).", allowed="an integer from 0 to 65535", ge=0, le=65535)
    dashboard_port: int = _field(
        0, description="Port of the Dask dashboard on the submit host (0: any free port; lcsim prints it).",
        allowed="an integer from 0 to 65535", ge=0, le=65535)
    death_timeout: float = _field(
        60.0, description="Seconds a worker waits for an unreachable scheduler before it exits (so jobs of a "
        "killed client end by themselves).", allowed="a number of seconds from 1 to 86400", ge=1, le=86_400)
    start_timeout: float = _field(
        300.0, description="Seconds to wait for the first worker of the cluster to connect. A job that the batch "
        "system refuses or that cannot start (a misconfigured sbatch, a full queue) then stops the sweep with the "
        "batch system's error and the job script, instead of waiting for ever; finished runs stay resumable.",
        allowed="a number of seconds from 1 to 604800 (a week, for busy queues)", ge=1, le=604_800)

    @model_validator(mode="before")
    @classmethod
    def _processes_default_to_cores(cls, data: Any) -> Any:
        # One single-threaded worker per core unless the file says otherwise (resolved before the checks).
        cores = data.get("cores") if isinstance(data, dict) else None
        if type(cores) is int and cores >= 1 and data.get("processes") is None:
            data = {**data, "processes": data["cores"]}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ClusterConfig:
        problems = []
        if self.processes > self.cores:
            problems.append(f"field 'processes' = {self.processes} exceeds field 'cores' = {self.cores}; allowed: "
                            "processes from 1 to cores (each worker process needs at least one core)")
        if self.maximum_jobs < self.minimum_jobs:
            problems.append(f"field 'maximum_jobs' = {self.maximum_jobs} is below field 'minimum_jobs' = "
                            f"{self.minimum_jobs}; allowed: maximum_jobs >= minimum_jobs")
        if problems:  # one line each; _translate splits them again
            raise ValueError("\n".join(problems))
        return self

    # ----------------------------------------------------------------------------- derived values

    @property
    def walltime_seconds(self) -> int:
        hours, minutes, seconds = (int(part) for part in _TIME_PARTS.match(self.walltime).groups())
        return 3600 * hours + 60 * minutes + seconds

    @property
    def maximum_workers(self) -> int:
        return self.maximum_jobs * self.processes

    def worker_lifetime(self) -> tuple[str, str] | None:
        """``(--lifetime, --lifetime-stagger)`` so workers retire before the walltime kills their job.

        A worker killed by the batch system loses its running chunk (the scheduler retries it, but it counts
        towards ``allowed-failures``); a retiring worker hands its work back first.  The margin is 10% of the
        walltime, at least 1 and at most 10 minutes; jobs shorter than 5 minutes get none.
        """
        total = self.walltime_seconds
        if total < 300:
            return None
        margin = min(600, max(60, total // 10))
        return f"{total - margin}s", f"{margin // 2}s"

    def jobqueue_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``dask_jobqueue.SLURMCluster`` / ``PBSCluster``."""
        extra_args: list[str] = []
        lifetime = self.worker_lifetime()
        if lifetime:
            extra_args += ["--lifetime", lifetime[0], "--lifetime-stagger", lifetime[1]]
        scheduler_options: dict[str, Any] = {"port": self.scheduler_port,
                                             "dashboard_address": f":{self.dashboard_port}"}
        if self.scheduler_host:
            scheduler_options["host"] = self.scheduler_host
        kwargs: dict[str, Any] = {
            "cores": self.cores,
            "processes": self.processes,
            "memory": self.memory,
            "walltime": self.walltime,
            "queue": self.queue,
            "account": self.account,
            "python": self.python or sys.executable,
            "job_name": self.job_name,
            "job_extra_directives": list(self.job_extra_directives),
            "job_script_prologue": list(self.job_script_prologue),
            "local_directory": self.local_directory,
            "log_directory": self.log_directory,
            "interface": self.interface,
            "death_timeout": self.death_timeout,
            "worker_extra_args": extra_args,
            "scheduler_options": scheduler_options,
        }
        return kwargs


FIELDS = tuple(ClusterConfig.model_fields)


# --------------------------------------------------------------------------------------- loading


def load_cluster_config(path: str | Path) -> ClusterConfig:
    """Read and validate a cluster file; raise :class:`ConfigError` naming file, field, value and what is allowed.
    A relative ``configs/...`` path is found in the project from any folder (see ``resolve_reference``)."""
    path = resolve_reference(path, None)
    raw = read_config_bytes(path, "cluster", noun="cluster", example="configs/cluster/slurm.toml")
    return cluster_from_dict(parse_toml(path, raw), source=str(path))


def cluster_from_dict(document: dict[str, Any], *, source: str = "<cluster>") -> ClusterConfig:
    """Validate a parsed cluster document (the whole file, with its ``[cluster]`` table)."""
    problems = [f"{source}: unknown top-level key '{key}' = {show_value(value)}; allowed: only a [cluster] table"
                + suggest(key, ["cluster"]) for key, value in document.items() if key != "cluster"]
    table = document.get("cluster")
    if table is None:
        problems.append(f"{source}: the [cluster] table is missing; allowed: a [cluster] table with at least kind, "
                        "cores, memory, walltime and maximum_jobs (see configs/cluster/slurm.toml)")
    elif not isinstance(table, dict):
        problems.append(f"{source}: 'cluster' = {show_value(table)} has the wrong type; allowed: a table, written as "
                        "a [cluster] section")
    if problems:
        raise ConfigError("\n".join(problems), problems)
    try:
        return ClusterConfig(**table)
    except ValidationError as exc:
        problems = _translate(exc, source, table)
        raise ConfigError("\n".join(problems), problems) from None


def _allowed(name: str) -> str:
    info = ClusterConfig.model_fields.get(name)
    extra = info.json_schema_extra if info is not None and isinstance(info.json_schema_extra, dict) else {}
    return str(extra.get("allowed", "see docs/cluster.md"))


def _translate(exc: ValidationError, source: str, table: dict[str, Any]) -> list[str]:
    """One sentence per pydantic error: file, [cluster] field, value, what is allowed."""
    messages = []
    for error in exc.errors(include_url=False):
        kind = error["type"]
        loc = error.get("loc", ())
        name = str(loc[0]) if loc else ""
        where = f"{source}: [cluster] field '{name}'"
        value = table.get(name, error.get("input"))
        if kind == "missing":
            messages.append(f"{where} is missing; allowed: {_allowed(name)}")
        elif kind == "extra_forbidden":
            messages.append(f"{where} = {show_value(value)} is unknown; allowed: {', '.join(FIELDS)}"
                            + suggest(name, list(FIELDS)))
        elif not loc and kind == "value_error":  # checks across fields; their messages name the fields
            for line in error["msg"].removeprefix("Value error, ").splitlines():
                messages.append(f"{source}: [cluster] {line}")
        elif kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than", "too_short"}:
            messages.append(f"{where} = {show_value(value)} is out of range; allowed: {_allowed(name)}")
        elif kind in {"literal_error", "string_pattern_mismatch"}:
            messages.append(f"{where} = {show_value(value)} is not valid; allowed: {_allowed(name)}")
        elif len(loc) > 1:  # an item of a list field
            messages.append(f"{where} item {loc[1]} = {show_value(error.get('input'))} has the wrong type "
                            f"({toml_type(error.get('input'))}); allowed: {_allowed(name)}")
        elif kind.endswith("_type") or kind in {"int_from_float", "finite_number"}:
            messages.append(f"{where} = {show_value(value)} has the wrong type ({toml_type(value)}); "
                            f"allowed: {_allowed(name)}")
        else:  # anything pydantic may add later: still name the file, the field and the value
            messages.append(f"{where} = {show_value(value)} is invalid ({error['msg']}); allowed: {_allowed(name)}")
    return messages


def cluster_file_digest(path: str | Path) -> str:
    """SHA-256 of a cluster file's bytes (recorded in the run set's manifest)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


__all__ = ["ClusterConfig", "KINDS", "cluster_file_digest", "cluster_from_dict", "load_cluster_config"]
