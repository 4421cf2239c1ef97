"""The validation report (Markdown) and the generated parts of docs/validation.md.

docs/validation.md holds hand-written text (what each pattern means, its source, how it is measured)
and two generated blocks, rewritten by ``lcsim validate --update-docs``: the figures the model gives
now, and the parameter values behind each case with the source note from its scenario file.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from experiments.analysis.validation import CASES, Check

FIGURES = ("<!-- validation:figures:start -->", "<!-- validation:figures:end -->")
CASE_PARAMETERS = ("<!-- validation:cases:start -->", "<!-- validation:cases:end -->")

_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^#]+?)\s*(?:#\s*(.*))?$")


def _num(value: float) -> str:
    if value != value:
        return "–"
    if value in (float("inf"), float("-inf")):
        return "∞" if value > 0 else "−∞"
    return f"{value:.3f}"


def checks_table(checks: list[Check]) -> str:
    lines = ["| pattern | check | figure | 95% interval | criterion | n | result | could fail by (mechanism; mutant) |",
             "|---|---|---:|---|---|---:|---|---|"]
    for c in checks:
        lines.append(
            f"| {c.pattern} | {c.title} | {_num(c.figure)} | {_num(c.low)} – {_num(c.high)} | {c.criterion} | "
            f"{c.n} | {'pass' if c.passed else '**FAIL**'} | {c.mechanism} |"
        )
    return "\n".join(lines)


def report_markdown(checks: list[Check], replicates: int, root_seed: int) -> str:
    """The full report: the summary table, then what each figure measures."""
    passed = sum(c.passed for c in checks)
    lines = [
        "# Validation report",
        "",
        f"{passed} of {len(checks)} checks pass. {replicates} replicates per ensemble, root seed {root_seed}; every "
        "ensemble uses the same replicate seeds (common random numbers). Intervals are 95%: Wilson for shares, "
        "Newcombe for differences of shares, Student t for paired differences, percentile bootstrap over "
        "replicates for hazard ratios.",
        "",
        checks_table(checks),
        "",
        "## What each figure measures",
        "",
    ]
    joint = next((c for c in checks if c.pattern == "J"), None)
    if joint is not None:
        lines[2:2] = [f"**Joint fate: {joint.figure:.1%} of baseline-region replicates (95% Wilson interval "
                      f"{joint.low:.1%} – {joint.high:.1%}, n = {joint.n}) produce the documented history.**", ""]
    lines += [f"- **{c.pattern} {c.title}** — {c.measure}." for c in checks]
    return "\n".join(lines) + "\n"


def case_parameters(scenarios_dir: Path) -> str:
    """For each case scenario: the parameters it sets, their values and the source comment beside them."""
    out = []
    for case in CASES:
        path = scenarios_dir / f"{case}.toml"
        out += [f"#### {case} (`{path.name}`)", "", "| parameter | value | source |", "|---|---:|---|"]
        in_parameters = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("["):
                in_parameters = line.strip() == "[parameters]"
                continue
            match = _ASSIGNMENT.match(line)
            if in_parameters and match:
                name, value, note = match.groups()
                out.append(f"| `{name}` | {value} | {(note or '').replace('|', '/')} |")
        out.append("")
    return "\n".join(out)


def _replace_block(text: str, markers: tuple[str, str], body: str) -> str:
    start, end = markers
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{body}\n{end}{tail}"


def update_validation_doc(path: Path, checks: list[Check], replicates: int, root_seed: int,
                          scenarios_dir: Path) -> None:
    """Rewrite the generated blocks of docs/validation.md in place."""
    text = path.read_text(encoding="utf-8")
    for markers in (FIGURES, CASE_PARAMETERS):
        if markers[0] not in text or markers[1] not in text:
            raise ValueError(f"{path}: markers {markers[0]} / {markers[1]} not found")
    today = datetime.now(timezone.utc).date().isoformat()
    figures = (
        f"Generated on {today} by `lcsim validate --replicates {replicates} --seed {root_seed} --update-docs`: "
        f"{sum(c.passed for c in checks)} of {len(checks)} checks pass.\n\n" + checks_table(checks)
        + "\n\nWhat each figure measures:\n\n" + "\n".join(f"- **{c.pattern}** — {c.measure}." for c in checks)
    )
    text = _replace_block(text, FIGURES, figures)
    text = _replace_block(text, CASE_PARAMETERS, case_parameters(scenarios_dir))
    path.write_text(text, encoding="utf-8")
