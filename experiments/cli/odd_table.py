"""Keep the parameter table in docs/ODD.md in step with sim/params.py.

``python -m experiments.cli.odd_table`` rewrites the block between the markers; the test suite fails
when the block differs from what this module would write.
"""

from __future__ import annotations

import sys
from pathlib import Path

from experiments.cli.run import params_markdown
from sim import parameter_table

START, END = "<!-- params:start -->", "<!-- params:end -->"
ODD = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"


def with_current_table(text: str) -> str:
    """The ODD text with the block between the markers replaced by the current parameter table."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{params_markdown(parameter_table())}{END}{tail}"


def main() -> int:
    text = ODD.read_text(encoding="utf-8")
    if START not in text or END not in text:
        print(f"{ODD}: markers {START} / {END} not found", file=sys.stderr)
        return 2
    ODD.write_text(with_current_table(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
