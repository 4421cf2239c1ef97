"""The ``lcsim`` Typer app: every sub-command module adds its commands through its ``register`` function.

The command modules never import this one (no import circle); ``lcsim`` (the console script) and
``python -m experiments.cli`` both use :data:`app`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from experiments.cli import cases, discover, robust, run, studies, viz

HELP = """Simulate regional learning communities (school, firms, government, area cooperative) and ask
what makes a pilot last.

\b
One scenario and its what-ifs:
  run          run one scenario's replicates; tables, summary, figures (results/<name>/)
  compare      several scenarios on the same seeds: paired differences to a reference,
               --all-pairs with Bonferroni-adjusted intervals and Holm p-values
  validate     replay the documented cases (C1-C3), the joint fate (J), patterns P1, P3, P6;
               report the literature patterns L1-L3 (not part of the verdict)
  params       list every parameter: unit, default, ranges, source
\b
Many runs over the success factors:
  sweep        a factorial or Latin-hypercube grid over factors (heatmaps, point table)
  sensitivity  Morris screening or Sobol' indices with bootstrap intervals
  resume       finish an interrupted sweep or sensitivity run set
  discover     scenario discovery on a run set: PRIM or CART boxes where an output is high or low
  robust       policies over the same futures: satisficing, regret, which policy holds up
\b
Looking at it:
  viz          the interactive viewer in a web browser (needs JavaScript)

Scenarios are files (configs/scenarios/baseline.toml), shipped names (baseline) or compositions
(our_region+stable_management); --set name=value overrides a parameter.  Paths inside config files
are relative to the file; configs/... works from any folder.  Every user mistake exits with code 2
and a message naming the file or option, the value and what is allowed.
"""

app = typer.Typer(
    name="lcsim",
    help=HELP,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"lcsim {version('lcsim')}")
        except PackageNotFoundError:  # running from a checkout that was never installed
            typer.echo("lcsim (not installed: version unknown)")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the lcsim version and exit.")] = False,
) -> None:
    """The lcsim command line (see the sub-commands below)."""


for _module in (run, cases, studies, viz, discover, robust):
    _module.register(app)
