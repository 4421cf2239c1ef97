"""``python -m experiments.cli``: the same command line as the ``lcsim`` console script."""

from experiments.cli.app import app

app()
