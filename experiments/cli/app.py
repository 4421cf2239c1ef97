"""The ``lcsim`` Typer app: every sub-command module adds its commands through its ``register`` function.

The command modules never import this one (no import circle); ``lcsim`` (the console script) and
``python -m experiments.cli`` both use :data:`app`.
"""

from __future__ import annotations

import typer

from experiments.cli import cases, discover, robust, run, studies, viz

app = typer.Typer(
    name="lcsim",
    help="Simulate regional learning communities: run scenarios, list parameters.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for _module in (run, cases, studies, viz, discover, robust):
    _module.register(app)
