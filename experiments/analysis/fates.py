"""Fates of pilots and fade timing from a run folder's pilot table: the one place these shares are computed.

The run summary (``runs.parquet``, computed by the model per replicate) and every figure of fates agree
because the figures call these functions, and ``tests/test_figures_agree.py`` checks them against the
model's own per-run summary: ``taken_over_share`` etc. are shares of *started* pilots of one run, then
averaged over replicates; pilots that never started are a separate share of *proposed* pilots.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim import FATES, SERIES_FIELDS

#: The pilot-table column a started pilot's fate is read from (the model's ``Fate`` values, in
#: :data:`sim.FATES` order; '' for a pilot that never ran).
FATE_COLUMN = "fate_class"


def phase_names() -> list[str]:
    """Pilot phases in the model's declaration order, read from the ``phase_*`` series names."""
    return [name.removeprefix("phase_") for name in SERIES_FIELDS if name.startswith("phase_")]


def _started(pilots: pd.DataFrame) -> pd.Series:
    """Which pilots ever ran (missing or -1 first-run month means never)."""
    first = pd.to_numeric(pilots["first_run_month"], errors="coerce")
    return first.notna() & (first >= 0)


def started_fate_shares(pilots: pd.DataFrame) -> pd.DataFrame:
    """Per replicate, the share of its started pilots in each fate at the horizon (``fate_class``).

    One row per replicate that started at least one pilot (a run without one has no share, as in the
    model's summary, where it is NaN); one column per fate in :data:`sim.FATES` order, 0 where no pilot
    ended there; each row sums to 1.  The mean of a column over rows is the summary's share:
    ``taken_over`` -> ``taken_over_share``, ``continued_by_adult_arm`` -> ``adult_arm_share``,
    ``structural`` -> ``structural_share``, ``faded`` -> ``faded_share``.
    """
    fates = list(FATES)
    started = pilots[_started(pilots)]
    if started.empty:
        return pd.DataFrame(columns=fates, dtype=float)
    counts = pd.crosstab(started["replicate"], started[FATE_COLUMN].astype(str))
    shares = counts.div(counts.sum(axis=1), axis=0)
    extra = sorted(set(shares.columns) - set(fates))
    return shares.reindex(columns=fates + extra, fill_value=0.0).astype(float)


def never_started_share(pilots: pd.DataFrame) -> pd.Series:
    """Per replicate, the share of its proposed pilots that never started (denominator: proposed pilots)."""
    if pilots.empty:
        return pd.Series(dtype=float)
    return (~_started(pilots)).groupby(pilots["replicate"]).mean().astype(float)


def fade_offsets(pilots: pd.DataFrame) -> pd.DataFrame:
    """Fade month minus subsidy end month (months) of every faded pilot whose subsidy ended, with its
    replicate; ``after`` is True when it faded at or after the end of its subsidy."""
    if pilots.empty:
        return pd.DataFrame({"replicate": [], "offset": [], "after": []})
    fade = pd.to_numeric(pilots["fade_month"], errors="coerce")
    end = pd.to_numeric(pilots["subsidy_end_month"], errors="coerce")
    both = fade.notna() & end.notna() & (fade >= 0) & (end >= 0)
    offset = (fade[both] - end[both]).astype(int)
    return pd.DataFrame({"replicate": pilots.loc[both, "replicate"].to_numpy(), "offset": offset.to_numpy(),
                         "after": (offset >= 0).to_numpy()})


def mean_fade_after_subsidy_end(pilots: pd.DataFrame) -> pd.Series:
    """Per replicate, the mean months from subsidy end to fade of pilots that faded *after* their subsidy
    ended (the summary's ``mean_fade_after_subsidy_end``; pilots that faded while still subsidised are
    not in it)."""
    offsets = fade_offsets(pilots)
    after = offsets[offsets["after"]]
    return after.groupby("replicate")["offset"].mean().astype(float)


def mean_over_replicates(values: pd.Series | pd.DataFrame) -> float | pd.Series:
    """The mean over replicates, as the summary table takes it (replicates without a value left out)."""
    return values.mean() if len(values) else (np.nan if isinstance(values, pd.Series) else values.mean())
