"""``lcsim discover``: under which combinations of factors does an output of a run set meet a condition?

Registered on the ``lcsim`` Typer app by :mod:`experiments.cli.app` through :func:`register`.  The work is
:func:`experiments.analysis.runset_discovery.discover_runset`; this module parses the options and turns
every user mistake (an unknown output, a condition no point or every point meets, a run set still running or
incomplete, a factor of zero width, ``--box`` beyond the trajectory, ``--stack-factors`` outside 0 or 2 to 6 or
above the number of factors) into exit code 2 with a message naming
the value and what is allowed, before anything is written.
"""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from experiments.cli.options import fail

HELP_SHARE = ("Decide cases on the share of a point's replicates meeting the condition (a case when that share is at "
              "least P, 0 < P <= 1) instead of the replicate mean. With few replicates the share is coarse and many "
              "points are borderline (0 of 3 has a 95 % interval of 0 to 0.56).")


def _number(option: str, text: str | None, allowed: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().replace("_", ""))
    except ValueError:
        raise fail(f"--{option} {text}: not a number; allowed: {allowed}") from None
    if not math.isfinite(value):
        raise fail(f"--{option} {text}: not a finite number; allowed: {allowed}")
    return value


def discover(
    runset: Annotated[Path, typer.Argument(metavar="RUNSET", show_default=False,
                                           help="A finished run-set folder (lcsim sweep / sensitivity / robust).")],
    output: Annotated[str, typer.Option(metavar="NAME", show_default=False,
                                        help="The output whose condition defines the cases, e.g. continued_by_school_y5.")],
    above: Annotated[str | None, typer.Option(metavar="X", show_default=False,
                                              help="Cases: points whose replicate mean is >= X.")] = None,
    below: Annotated[str | None, typer.Option(metavar="X", show_default=False,
                                              help="Cases: points whose replicate mean is <= X.")] = None,
    share_above: Annotated[str | None, typer.Option(metavar="P", show_default=False, help=HELP_SHARE)] = None,
    method: Annotated[str, typer.Option(metavar="prim|cart", help=(
        "prim: PRIM boxes (peeling trajectory, quasi-p-values, resampling, covering box); cart: the leaves of a "
        "classification tree as boxes. Both write CART leaves and extra-trees feature scores."))] = "prim",
    box: Annotated[str | None, typer.Option(metavar="K", show_default=False, help=(
        "Take box K of the peeling trajectory (0 = all points) instead of the default: the box with the largest "
        "coverage among those with density >= min-density x the best density."))] = None,
    min_density: Annotated[str, typer.Option(metavar="D", help=(
        "Share of the best density on the trajectory the default box must keep (0 < D <= 1)."))] = "0.8",
    resamples: Annotated[str, typer.Option(metavar="N", help=(
        "Bootstrap resamples for the stability of each restriction (0 to 10000)."))] = "50",
    stack_factors: Annotated[str | None, typer.Option(metavar="K", show_default=False, help=(
        "Dimensional stacking of the K factors of highest feature score, 3 quantile bins each, into "
        "stacking.csv and stacking.png (2 to 6 and at most the number of factors; 0: none). "
        "Default: 4, or the number of factors if fewer."))] = None,
) -> None:
    """Scenario discovery: PRIM (or CART) boxes of the factor space where an output meets a condition."""
    from experiments.analysis.discovery import DiscoveryInputError
    from experiments.analysis.runset_discovery import METHODS, discover_runset

    if (above is None) == (below is None):
        given = " and ".join(f"--{n} {v}" for n, v in (("above", above), ("below", below)) if v is not None)
        raise fail(f"{given or 'no condition'}: give exactly one condition; allowed: --above X or --below X")
    x_above = _number("above", above, "a number")
    x_below = _number("below", below, "a number")
    share = _number("share-above", share_above, "a share above 0 and at most 1")
    if share is not None and not 0 < share <= 1:
        raise fail(f"--share-above {share_above}: out of range; allowed: a share above 0 and at most 1")
    if method not in METHODS:
        raise fail(f"--method {method}: unknown method; allowed: {', '.join(METHODS)}")
    density = _number("min-density", min_density, "a number above 0 and at most 1")
    if not 0 < density <= 1:
        raise fail(f"--min-density {min_density}: out of range; allowed: a number above 0 and at most 1")
    k = None
    if box is not None:
        try:
            k = int(box)
        except ValueError:
            raise fail(f"--box {box}: not an integer; allowed: a box index from 0 on the peeling trajectory") from None
        if k < 0:
            raise fail(f"--box {box}: negative; allowed: a box index from 0 on the peeling trajectory")
    try:
        n_resamples = int(resamples)
    except ValueError:
        raise fail(f"--resamples {resamples}: not an integer; allowed: 0 to 10000") from None
    if not 0 <= n_resamples <= 10_000:
        raise fail(f"--resamples {resamples}: out of range; allowed: 0 to 10000")
    try:
        n_stack = None if stack_factors is None else int(stack_factors)
    except ValueError:
        raise fail(f"--stack-factors {stack_factors}: not an integer; allowed: 0 (no stacking) or 2 to 6") from None
    if n_stack is not None and n_stack != 0 and not 2 <= n_stack <= 6:
        raise fail(f"--stack-factors {stack_factors}: out of range; allowed: 0 (no stacking) or 2 to 6 (at most the "
                   "run set's number of factors)")
    if not runset.is_dir():
        raise fail(f"{runset}: no such folder; allowed: a run-set folder written by `lcsim sweep`, `lcsim sensitivity` "
                   "or `lcsim robust`")
    try:
        done = discover_runset(runset, output, above=x_above, below=x_below, share=share, method=method, box=k,
                               min_density=density, n_resamples=n_resamples, stack_factors=n_stack,
                               command=shlex.join(sys.argv))
    except DiscoveryInputError as exc:
        raise fail(str(exc)) from None
    result = done.result
    cases = result.cases
    typer.echo(f"{cases.description}: {cases.n_cases} of {len(cases.table)} points are cases "
               f"({cases.n_borderline} borderline)")
    if method == "prim":
        for search in result.searches:
            b = search.box
            typer.echo(f"box {search.chosen} (search {search.search}): coverage {b.coverage:.3f}, density "
                       f"{b.density:.3f}, mass {b.mass:.3f}")
            for lim in search.limits:
                typer.echo(f"  {lim.low:.4g} <= {lim.factor} <= {lim.high:.4g}  (quasi-p {lim.qp_value:.2g}, "
                           f"restricted in {lim.resample_share:.0%} of resamples)")
    else:
        for leaf in sorted(result.cart, key=lambda b: -b.density):
            if leaf.density >= 0.5:
                limits = "; ".join(f"{lo:.4g} <= {f} <= {hi:.4g}" for f, lo, hi in leaf.limits) or "(no limits)"
                typer.echo(f"leaf {leaf.leaf}: coverage {leaf.coverage:.3f}, density {leaf.density:.3f}: {limits}")
    if done.stack is not None:
        top = done.stack.top_cells(1, min_points=max(1, int(done.stack.table["n_points"].median() // 2))).iloc[0]
        where = "; ".join(f"{f} {top[f + '_low']:.3g} to {top[f + '_high']:.3g}" for f in done.stack.factors)
        typer.echo(f"stacking ({', '.join(done.stack.factors)}): largest share {top['share']:.2f} "
                   f"({int(top['n_cases'])} of {int(top['n_points'])} points) at {where}")
    typer.echo(f"written to {done.folder} (report: {done.folder / 'report.md'})", err=True)


def register(app: typer.Typer) -> None:
    """Add ``discover`` to the ``lcsim`` app."""
    app.command()(discover)
