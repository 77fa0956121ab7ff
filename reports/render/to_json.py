"""The report as JSON: the model's own dump (shape in docs/report-json.md)."""

from __future__ import annotations

import json

from reports.model import Report


def report_dict(report: Report) -> dict:
    """JSON-ready dict (dates as ISO 8601, keys ``from``/``to``)."""
    return report.model_dump(mode="json")


def render_json(report: Report) -> bytes:
    return (json.dumps(report_dict(report), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
