"""The ``lcsim`` command line (one module per group of sub-commands; :mod:`experiments.cli.app` joins them)."""

from experiments.cli.app import app

__all__ = ["app"]
