"""Running, storing and analysing many model runs; the `lcsim` command line.

This package knows the model (`sim`) only through `run_model`, `Params`, `parameter_table` and the
outcome field names (`SUMMARY_FIELDS`, `SERIES_FIELDS`, `PILOT_FIELDS`).  It never reaches into agents.
"""
