"""The validation report (Markdown) and the generated parts of docs/validation.md.

docs/validation.md holds hand-written text (what each pattern means, its source, how it is measured)
and two generated blocks, rewritten by ``lcsim validate --update-docs``: the figures the model gives
now, and the parameter values behind each case with the source note from its scenario file.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from experiments.analysis.validation import CASES, Check, document_checks, literature_patterns

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
        result = c.verdict if c.passed else f"**{c.verdict}**"
        lines.append(
            f"| {c.pattern} | {c.title} | {_num(c.figure)} | {_num(c.low)} – {_num(c.high)} | {c.criterion} | "
            f"{c.n} | {result} | {c.mechanism} |"
        )
    return "\n".join(lines)


def literature_table(checks: list[Check]) -> str:
    lines = ["| pattern | check | figure | 95% interval | criterion | n | literature pattern | positive control | "
             "what the document says (why the model need not reproduce it) |",
             "|---|---|---:|---|---|---:|---|---|---|"]
    for c in checks:
        lines.append(
            f"| {c.pattern} | {c.title} | {_num(c.figure)} | {_num(c.low)} – {_num(c.high)} | {c.criterion} | "
            f"{c.n} | {c.verdict if c.passed else f'**{c.verdict}**'} | {c.control} | "
            f"{c.evidence} |"
        )
    return "\n".join(lines)


def summary_line(checks: list[Check]) -> str:
    """One line: the document checks' verdict, and the literature patterns by name."""
    doc, lit = document_checks(checks), literature_patterns(checks)
    line = f"{sum(c.passed for c in doc)} of {len(doc)} checks of what the document reports pass"
    if lit:
        line += "; literature patterns (not part of the verdict): " + ", ".join(f"{c.pattern} {c.verdict}" for c in lit)
    return line + "."


LITERATURE_NOTE = ("Patterns from the literature on collaboration persistence that the seed document does not "
                   "support. They are reported, with their intervals, but do not decide the verdict or "
                   "`lcsim validate`'s exit code; each keeps a positive control (a test-only variant with the "
                   "literature's mechanism, on which the check passes) and its mutant tests.")


def report_markdown(checks: list[Check], replicates: int, root_seed: int) -> str:
    """The full report: the summary, the document checks, the literature patterns, what each figure measures."""
    doc, lit = document_checks(checks), literature_patterns(checks)
    lines = [
        "# Validation report",
        "",
        f"{summary_line(checks)} {replicates} replicates per ensemble, root seed {root_seed}; every "
        "ensemble uses the same replicate seeds (common random numbers). Intervals are 95%: Wilson for shares, "
        "Newcombe for differences of shares, Student t for paired differences, percentile bootstrap over "
        "replicates for hazard ratios.",
        "",
        "## Checks of what the document reports (they decide the verdict)",
        "",
        checks_table(doc),
        "",
    ]
    if lit:
        lines += ["## Literature patterns: reproduced / NOT reproduced", "", LITERATURE_NOTE, "",
                  literature_table(lit), ""]
    lines += ["## What each figure measures", ""]
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
    lit = literature_patterns(checks)
    figures = (
        f"Generated on {today} by `lcsim validate --replicates {replicates} --seed {root_seed} --update-docs`: "
        f"{summary_line(checks)}\n\nChecks of what the document reports (they decide the verdict):\n\n"
        + checks_table(document_checks(checks))
        + ("\n\nLiterature patterns: reproduced / NOT reproduced (not part of the verdict):\n\n" + literature_table(lit)
           if lit else "")
        + "\n\nWhat each figure measures:\n\n" + "\n".join(f"- **{c.pattern}** — {c.measure}." for c in checks)
    )
    text = _replace_block(text, FIGURES, figures)
    text = _replace_block(text, CASE_PARAMETERS, case_parameters(scenarios_dir))
    path.write_text(text, encoding="utf-8")
