"""The results table, as text for the terminal and as Markdown for docs/performance.md.

``.venv/bin/python -m bench.table [bench/results.json]`` prints the Markdown of a
saved run (machine, table, growth curves).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

COLUMNS = ("stage", "workload", "our figure", "baseline in the same run", "ratio", "target",
           "met")


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}".rstrip("0").rstrip(".")


def cells(row: dict[str, Any]) -> list[str]:
    figure = f"{_number(row['figure'])} {row['unit']}" if row["figure"] is not None else "—"
    baseline = (f"{_number(row['baseline'])} ({row['baseline_name']})"
                if row.get("baseline") is not None else "—")
    ratio = row.get("ratio")
    ratio_text = "—" if ratio is None else (
        f"{ratio:.2g}× the time" if row.get("ratio_of_time") else f"{ratio:.2g}×")
    met = {True: "yes", False: "**no**", None: "—"}[row.get("met")]
    return [row["stage"], row["workload"], figure, baseline, ratio_text, row.get("target") or "—",
            met]


def text_table(rows: list[dict[str, Any]]) -> str:
    table = [list(COLUMNS)] + [cells(r) for r in rows]
    table = [[c.replace("**", "") for c in line] for line in table]
    widths = [min(60, max(len(line[i]) for line in table)) for i in range(len(COLUMNS))]
    out = []
    for n, line in enumerate(table):
        out.append("  ".join(c[:60].ljust(w) for c, w in zip(line, widths, strict=True)))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells(row)) + " |")
    return "\n".join(lines)


def curves_text(curves: list[dict[str, Any]]) -> str:
    lines = []
    for curve in curves:
        points = ", ".join(f"{_number(x)} → {_number(y)}" for x, y in curve["points"])
        lines.append(f"- {curve['name']} ({curve['x']} → {curve['y']}): {points}; "
                     f"log-log slope {curve['slope']}: {curve['verdict']}")
    return "\n".join(lines)


def machine_text(machine: dict[str, Any]) -> str:
    return (f"{machine['nproc']} cores ({machine['cpu_model']}), {machine['memory_gb']} GB, "
            f"Python {machine['python']}, SQLite {machine['sqlite']}, {machine['date']}, "
            f"load average at start {machine['load_average']}")


def markdown(results: dict[str, Any]) -> str:
    parts = [f"Machine: {machine_text(results['machine'])}.",
             f"Command: `{results['command']}` ({results['seconds']:.0f} s).", "",
             markdown_table(results["rows"]), ""]
    if results.get("curves"):
        parts += ["Growth:", "", curves_text(results["curves"]), ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path(__file__).parent / "results.json"
    print(markdown(json.loads(path.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
