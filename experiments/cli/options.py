"""What every ``lcsim`` command shares: the user-mistake exit, the integer options and their help texts.

User mistakes (a bad file, a bad option value, an existing output folder) end with a message on stderr
naming the file, the field, the value and what is allowed, exit code 2, no traceback, and nothing written
to disk.  Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import typer

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
