"""The golden result of ``lcsim run``: compute it, and (re)write ``tests/data/golden_run.json``.

``tests/test_golden.py`` compares a fresh ``lcsim run`` against the stored file, so any change to what
``lcsim run`` writes for a given scenario, seed and replicate count is caught.  A *deliberate* change of
the model (``sim/``) changes the numbers too; regenerate the file in the same commit with::

    PYTHONPATH=$PWD .venv/bin/python -m tests.regen_golden

and say in the commit message why the numbers moved.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

GOLDEN_FILE = Path(__file__).parent / "data" / "golden_run.json"
ROOT = Path(__file__).resolve().parent.parent
# Baseline plus one case that moves many parameters (so a dropped override would show).
CASES = ("baseline", "smart_farming")
REPLICATES = 6
SEED = 7


def table_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's CSV text (column order, names and every value at full ``repr`` precision)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return hashlib.sha256(buffer.getvalue().encode("utf-8")).hexdigest()


def golden_of_folder(folder: Path) -> dict[str, Any]:
    """The parts of an ``lcsim run`` result folder that must stay bit-identical."""
    frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in ("runs", "pilots", "series")}
    runs = frames["runs"]
    return {
        "runs": json.loads(runs.to_json(orient="records", double_precision=15)),
        "runs_sha256": table_sha256(runs),
        "pilots_sha256": table_sha256(frames["pilots"]),
        "series_sha256": table_sha256(frames["series"]),
        "summary_csv": (folder / "summary.csv").read_text(encoding="utf-8"),
    }


def run_case(case: str, out: Path, *extra: str) -> Path:
    """``lcsim run configs/scenarios/<case>.toml`` in-process, 6 replicates, seed 7; returns the folder."""
    from typer.testing import CliRunner

    from experiments.cli import app

    config = ROOT / "configs" / "scenarios" / f"{case}.toml"
    args = ["run", str(config), "--replicates", str(REPLICATES), "--seed", str(SEED), "--out", str(out),
            "--no-progress", *extra]
    result = CliRunner().invoke(app, args)
    if result.exit_code != 0:
        raise RuntimeError(f"lcsim {' '.join(args)} failed ({result.exit_code}):\n{result.output}")
    return out


def compute_golden(workdir: Path, *extra: str) -> dict[str, Any]:
    """The golden record of every case in :data:`CASES`, computed in ``workdir``."""
    return {case: golden_of_folder(run_case(case, workdir / case, *extra)) for case in CASES}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        golden = compute_golden(Path(tmp), "--workers", "1")
    GOLDEN_FILE.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN_FILE.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
