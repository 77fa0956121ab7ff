"""``python -m bench`` (``make bench``): every benchmark in one run, one table, results.json.

    .venv/bin/python -m bench                       # everything (15-25 minutes on 2 cores)
    .venv/bin/python -m bench --quick               # smaller workloads (a few minutes)
    .venv/bin/python -m bench --only search,report  # some stages (the stores they need are
                                                    # built first, untimed in the table)
    .venv/bin/python -m bench --keep /tmp/b         # keep the stores built on the way

Benchmarks, not tests: nothing here runs in ``make test``. Each line compares our
figure with a baseline measured in the same run on the same input, because this
2-core machine is shared and noisy. ``docs/performance.md`` explains each figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.common import Results, Row, machine
from bench.table import curves_text, machine_text, text_table
from bench.workspace import Workspace

DEFAULT_OUT = Path(__file__).parent / "results.json"


def _pipeline(ws: Workspace, results: Results) -> list[Row]:
    from bench.bench_pipeline import run_pipeline

    return run_pipeline(ws)


def _crawl(ws: Workspace, results: Results) -> list[Row]:
    from bench.bench_crawl import run_crawl

    return run_crawl()


def _tagging(ws: Workspace, results: Results) -> list[Row]:
    from bench.tagging_rows import run_tagging

    return run_tagging(ws, results)


def _import(ws: Workspace, results: Results) -> list[Row]:
    ws.corpus_store()
    return ws.import_rows


def _search(ws: Workspace, results: Results) -> list[Row]:
    from bench.bench_store import search_corpus

    return search_corpus(ws)


def _report(ws: Workspace, results: Results) -> list[Row]:
    from bench.bench_report import report_corpus

    return report_corpus(ws)


def _api(ws: Workspace, results: Results) -> list[Row]:
    from bench.bench_api import run_api

    return run_api(ws)


def _scale(ws: Workspace, results: Results) -> list[Row]:
    from bench.bench_scale import run_scale

    return run_scale(ws, results)


STAGES: dict[str, Callable[[Workspace, Results], list[Row]]] = {
    "pipeline": _pipeline, "crawl": _crawl, "tagging": _tagging, "import": _import,
    "search": _search, "report": _report, "api": _api, "scale": _scale,
}


def parse_only(value: str | None) -> list[str]:
    if not value:
        return list(STAGES)
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise SystemExit(f"--only: unknown stage(s) {', '.join(unknown)} "
                         f"(one of {', '.join(STAGES)})")
    return [n for n in STAGES if n in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", metavar="STAGE[,STAGE]",
                        help=f"run only these stages: {', '.join(STAGES)}")
    parser.add_argument("--quick", action="store_true",
                        help="smaller workloads (20k-item store, 50k scale store, fewer rounds)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the stores in DIR and keep them")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                        help=f"where to write the results (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    stages = parse_only(args.only)
    command = "python -m bench" + (f" --only {','.join(stages)}" if args.only else "") + (
        " --quick" if args.quick else "")
    about = machine()
    print(f"dophu bench: {', '.join(stages)}{' (quick)' if args.quick else ''} on "
          f"{machine_text(about)}", flush=True)
    ws = Workspace.create(args.keep, args.quick)
    results = Results()
    failed: list[str] = []
    started = time.perf_counter()
    try:
        for name in stages:
            stage_started = time.perf_counter()
            print(f"[{name}] running…", flush=True)
            try:
                rows = STAGES[name](ws, results)
            except Exception as exc:  # noqa: BLE001 - one broken stage must not lose the rest
                traceback.print_exc()
                failed.append(name)
                results.notes.append(f"{name}: failed: {type(exc).__name__}: {exc}")
                continue
            for row in rows:
                results.add(row)
                print(f"[{name}] {row.stage}: {row.figure} {row.unit}"
                      + (f" (baseline {row.baseline})" if row.baseline is not None else "")
                      + f"; target {row.target or '—'}: "
                      + {True: "met", False: "NOT met", None: "—"}[row.met], flush=True)
            print(f"[{name}] done in {time.perf_counter() - stage_started:.0f} s", flush=True)
    finally:
        ws.cleanup()
    seconds = time.perf_counter() - started
    about["load_average_end"] = machine()["load_average"]
    document = {"command": command, "machine": about, "quick": args.quick,
                "seconds": round(seconds, 1), "rows": [r.as_dict() for r in results.rows],
                "curves": [c.as_dict() for c in results.curves], "notes": results.notes}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n",
                        encoding="utf-8")
    print()
    print(text_table(document["rows"]))
    if document["curves"]:
        print("\nGrowth:\n" + curves_text(document["curves"]))
    for note in results.notes:
        print(f"note: {note}")
    print(f"\n{len(results.rows)} rows in {seconds:.0f} s; written to {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
