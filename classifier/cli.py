"""``dophu tag``, ``train``, ``evaluate`` and ``review`` (registered by dophu.cli)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.table import Table

from classifier.corpus import (
    Corpus,
    CorpusError,
    data_hash,
    feedback_items,
    load_corpus,
)
from dophu.cli import BadInput, context_of, emit_json, err, handle_errors, out
from dophu.dates import DateParseError, parse_datetime

if TYPE_CHECKING:
    from classifier.model import ModelBundle

# scikit-learn and the model modules are imported inside the commands: every ``dophu``
# command registers these, and importing them up front costs each command ~1.5 s.

BATCH = 256
MAX_RESAMPLES = 20_000     # --bootstrap: plenty for a 95% interval; 20,000 take ~20 s here
DEFAULT_RESAMPLES = 1000   # --compare-model without --bootstrap


class DocLineError(ValueError):
    """One input line of ``dophu tag`` that cannot be tagged."""


def parse_doc_line(raw: str) -> dict[str, Any]:
    """A ``dophu tag`` input line → {"id","title","text","published_at","url"}."""
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DocLineError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise DocLineError("expected a JSON object")
    doc_id = record.get("id")
    if doc_id is None or (isinstance(doc_id, str) and not doc_id.strip()):
        raise DocLineError("id: required")
    if not isinstance(doc_id, str | int):
        raise DocLineError("id: expected a string")
    for name in ("title", "text"):
        if record.get(name) is not None and not isinstance(record[name], str):
            raise DocLineError(f"{name}: expected a string")
    if not (record.get("title") or record.get("text")):
        raise DocLineError("title and text are both empty")
    try:
        published_at = parse_datetime(record.get("published_at"))
    except DateParseError as exc:
        raise DocLineError(f"published_at: {exc}") from None
    return {"id": str(doc_id), "title": record.get("title") or "",
            "text": record.get("text") or "", "published_at": published_at,
            "url": record.get("url")}


def _lines(handle: TextIO) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(handle, start=1):
        if raw.strip():
            yield number, raw


@handle_errors
def tag_cmd(
    typer_ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="JSON Lines file (default: stdin)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines output (the default "
                                          "form; kept for symmetry)")] = False,
) -> None:
    """Tag JSON Lines documents {"id","title","text","published_at"?,"url"?}: one JSON line each."""
    from classifier.tagger import build_tagger

    del as_json  # the output is JSON Lines either way (interface.md)
    context = context_of(typer_ctx)
    tagger = build_tagger(context.plan, model_path=context.model_path)
    name = file.name if file else "stdin"
    if file is not None and not file.exists():
        raise BadInput(f"{file}: file not found")
    handle = file.open(encoding="utf-8") if file else sys.stdin
    tagged = relevant = bad = 0
    try:
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            nonlocal tagged, relevant
            for doc, result in zip(batch, tagger.tag_many(batch), strict=True):
                emit_json({"id": doc["id"], **result.as_json()})
                tagged += 1
                relevant += result.relevant
            sys.stdout.flush()
            batch.clear()

        try:
            for number, raw in _lines(handle):
                try:
                    batch.append(parse_doc_line(raw))
                except DocLineError as exc:
                    bad += 1
                    err.print(f"{name}:{number}: {exc}", markup=False, highlight=False,
                              soft_wrap=True)
                    continue
                if len(batch) >= BATCH:
                    flush()
        except UnicodeDecodeError as exc:
            raise BadInput(f"{name}: not UTF-8 text ({exc.reason})") from None
        flush()
    finally:
        if file is not None:
            handle.close()
    err.print(f"tagged {tagged} ({relevant} relevant), {bad} bad line(s); {tagger.status}",
              markup=False, highlight=False, soft_wrap=True)
    if bad:
        raise typer.Exit(2)


def _report_corpus_errors(corpus: Corpus, limit: int = 20) -> None:
    for error in corpus.errors[:limit]:
        err.print(f"skipped {error}", markup=False, highlight=False, soft_wrap=True)
    if len(corpus.errors) > limit:
        err.print(f"... and {len(corpus.errors) - limit} more skipped line(s)")


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {"relevance_f1": metrics["relevance"]["f1"],
            "theme_micro_f1": metrics["theme"]["micro"]["f1"],
            "theme_macro_f1": metrics["theme"]["macro_f1"],
            "anniversary_micro_f1": metrics["anniversary"]["micro"]["f1"],
            "anniversary_macro_f1": metrics["anniversary"]["macro_f1"]}


@handle_errors
def train_cmd(
    typer_ctx: typer.Context,
    out_file: Annotated[Path | None, typer.Option("--out", help="Model file (default: "
                                                  "<data>/models/<plan id>.joblib)")] = None,
    data: Annotated[list[Path] | None, typer.Option(
        "--data-file", help="Labelled JSON Lines (default: classifier/data/*.jsonl)")] = None,
    feedback: Annotated[bool, typer.Option("--feedback/--no-feedback",
                                           help="Learn from people's feedback in the store")
                        ] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Retrain from the labelled corpus (training split) and feedback; write a versioned model."""
    from classifier.evaluation import evaluate_items
    from classifier.model import save_bundle
    from classifier.training import TrainConfig, train_model

    context = context_of(typer_ctx)
    plan = context.plan
    corpus = load_corpus(plan, data)
    _report_corpus_errors(corpus)
    items = corpus.train
    from_feedback = []
    if feedback:
        store = context.store
        from_feedback = list(feedback_items(store.list_feedback(), store.get, plan))
    training = items + from_feedback
    if len(training) < 20:
        raise BadInput(f"only {len(training)} labelled item(s) to train on; need at least 20")
    files = sorted({i.source_file for i in corpus.items})
    bundle = train_model(plan, training, TrainConfig(), data_hash=data_hash(training),
                         info={"corpus_files": files, "corpus_items": len(corpus.items),
                               "train_items": len(items), "feedback_items": len(from_feedback),
                               "skipped_lines": len(corpus.errors)})
    target = out_file or context.model_path
    save_bundle(bundle, target)
    heldout = corpus.test
    summary: dict[str, Any] = {"model": str(target), **bundle.summary(),
                               "skipped": [str(e) for e in corpus.errors]}
    if heldout:
        result = evaluate_items(plan, bundle, heldout)
        summary["heldout"] = {"items": len(heldout),
                              **_headline(result["all"]["combined"])}
    if as_json:
        emit_json(summary)
        return
    err.print(f"wrote {target} ({bundle.model_version}): {len(items)} corpus items, "
              f"{len(from_feedback)} from feedback, {bundle.info['train_seconds']} s",
              markup=False, highlight=False, soft_wrap=True)
    if "heldout" in summary:
        h = summary["heldout"]
        err.print(f"held-out ({h['items']} items): relevance F1 {h['relevance_f1']:.3f}, "
                  f"themes micro F1 {h['theme_micro_f1']:.3f}, anniversaries micro F1 "
                  f"{h['anniversary_micro_f1']:.3f}", markup=False, highlight=False, soft_wrap=True)


def _load_model_for(plan: Any, model: Path | None, default: Path) -> tuple[ModelBundle | None,
                                                                            str]:
    from classifier.model import ModelFileError, load_bundle
    from classifier.tagger import resolve_model

    if model is not None:
        try:
            bundle = load_bundle(model)
            bundle.check_plan(plan)
        except ModelFileError as exc:
            raise BadInput(str(exc)) from None
        return bundle, str(model)
    bundle, used, status = resolve_model(plan, default)
    return bundle, str(used) if used else status


@handle_errors
def evaluate_cmd(
    typer_ctx: typer.Context,
    gold: Annotated[Path | None, typer.Option("--gold", help="Gold JSON Lines (default: the "
                                              "held-out split of classifier/data)")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Model file (default: the "
                                               "tagger's)")] = None,
    trained_before: Annotated[str | None, typer.Option(
        "--trained-before", help="Time split: train on items published before this date "
        "(YYYY-MM-DD) and on a same-size random sample, test both on later held-out items")
    ] = None,
    tested_from: Annotated[str | None, typer.Option(
        "--tested-from", help="Time split: the held-out items published on this date or "
        "later (default: a month after --trained-before)")] = None,
    data: Annotated[list[Path] | None, typer.Option(
        "--data-file", help="Time split: labelled JSON Lines (default: classifier/data/*.jsonl)")
    ] = None,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", help="Also give 95% intervals of the headline figures over this many "
        "bootstrap resamples of the gold items (1,000 is usual; 0: none)")] = 0,
    compare_model: Annotated[Path | None, typer.Option(
        "--compare-model", help="Another model file: its figures minus the model's, with a "
        "paired 95% interval over --bootstrap resamples (default 1,000)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Per-label precision/recall/F1, averages, relevance, and look-alike traps."""
    from classifier.evaluation import evaluate_items, real_news_subset

    context = context_of(typer_ctx)
    plan = context.plan
    if not 0 <= bootstrap <= MAX_RESAMPLES:
        raise BadInput(f"--bootstrap: expected 0 to {MAX_RESAMPLES:,} resamples, got {bootstrap}")
    if trained_before is not None:
        if bootstrap or compare_model is not None:
            raise BadInput("--bootstrap and --compare-model go with the held-out split or "
                           "--gold, not --trained-before")
        if gold is not None or model is not None:
            raise BadInput("--trained-before trains its own models on the labelled corpus: "
                           "it takes --data-file, not --gold or --model")
        _evaluate_time_split(plan, data, _day(trained_before, "--trained-before"),
                             _day(tested_from, "--tested-from") if tested_from else None,
                             as_json)
        return
    if tested_from is not None or data is not None:
        raise BadInput("--tested-from and --data-file go with --trained-before")
    if gold is not None:
        if not gold.exists():
            raise BadInput(f"{gold}: file not found")
        corpus = load_corpus(plan, [gold])
        if corpus.errors:
            first: CorpusError = corpus.errors[0]
            more = f" (and {len(corpus.errors) - 1} more)" if len(corpus.errors) > 1 else ""
            raise BadInput(f"{first}{more}")
        items = corpus.items
        gold_name = str(gold)
    else:
        corpus = load_corpus(plan)
        _report_corpus_errors(corpus)
        items = corpus.test
        gold_name = "held-out split of classifier/data"
    if not items:
        raise BadInput(f"{gold_name}: no gold items")
    bundle, model_name = _load_model_for(plan, model, context.model_path)
    result = evaluate_items(plan, bundle, items, real_news_subset(items), bootstrap=bootstrap)
    payload = {"gold": {"source": gold_name, "items": len(items)},
               "model": bundle.summary() if bundle else None, "model_source": model_name,
               "results": result}
    if compare_model is not None:
        payload["comparison"] = _comparison(plan, bundle, model_name, compare_model, items,
                                            bootstrap or DEFAULT_RESAMPLES)
    if as_json:
        emit_json(payload)
        return
    _print_evaluation(payload)


def _comparison(plan: Any, bundle: ModelBundle | None, model_name: str, other: Path,
                items: list[Any], resamples: int) -> dict[str, Any]:
    from classifier.evaluation import compare_models, real_news_subset

    if bundle is None:
        raise BadInput(f"--compare-model: there is no model to compare it with ({model_name})")
    second, second_name = _load_model_for(plan, other, other)
    if second is None:                 # an explicit file loads or raises: not expected
        raise BadInput(f"--compare-model: {other}: no model in it")
    comparison = compare_models(plan, bundle, second, items, real_news_subset(items),
                                resamples=resamples)
    return {"first": model_name, "second": second_name, **comparison}


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{option}: expected a date like 2026-01-01, got {value!r}") from None


def _evaluate_time_split(plan: Any, data: list[Path] | None, trained_before: date,
                         tested_from: date | None, as_json: bool) -> None:
    from classifier.time_split import time_split_evaluation

    for path in data or []:
        if not path.exists():
            raise BadInput(f"{path}: file not found")
    corpus = load_corpus(plan, data)
    _report_corpus_errors(corpus)
    try:
        payload = time_split_evaluation(plan, corpus.train, corpus.test, trained_before,
                                        tested_from)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if as_json:
        emit_json(payload)
        return
    out.print(f"trained on {payload['train_items']} of {payload['training_part']} training "
              f"items (published before {payload['trained_before']}); tested on "
              f"{payload['test_items']} held-out items ({payload['test_relevant']} relevant) "
              f"published from {payload['tested_from']} on", highlight=False, markup=False)
    names = {"trained_before": f"trained before {payload['trained_before']}",
             "random_sample": f"random sample of {payload['train_items']} (seed "
                              f"{payload['seed']})"}
    for subset in payload["results"]["trained_before"]:
        table = Table("model / mode", "relevance F1", "themes micro F1", "macro F1",
                      "anniv. micro F1", title=subset)
        for arm, results in payload["results"].items():
            for mode, m in results[subset].items():
                table.add_row(f"{names[arm]} / {mode}", f"{m['relevance']['f1']:.3f}",
                              f"{m['theme']['micro']['f1']:.3f}", _fmt(m["theme"]["macro_f1"]),
                              f"{m['anniversary']['micro']['f1']:.3f}")
        out.print(table)


def _print_evaluation(payload: dict[str, Any]) -> None:
    out.print(f"gold: {payload['gold']['source']} ({payload['gold']['items']} items); "
              f"model: {payload['model_source']}", highlight=False, markup=False)
    for subset, modes in payload["results"].items():
        table = Table("subset / mode", "relevance P", "R", "F1", "themes micro F1", "macro F1",
                      "anniv. micro F1", "macro F1", title=f"{subset}")
        for mode, m in modes.items():
            table.add_row(mode, *(f"{x:.3f}" for x in (
                m["relevance"]["precision"], m["relevance"]["recall"], m["relevance"]["f1"],
                m["theme"]["micro"]["f1"])),
                _fmt(m["theme"]["macro_f1"]), f"{m['anniversary']['micro']['f1']:.3f}",
                _fmt(m["anniversary"]["macro_f1"]))
        out.print(table)
        mode = "combined" if "combined" in modes else "rules"
        if "intervals" in modes[mode]:
            _print_intervals(subset, mode, modes[mode]["intervals"])
    if "comparison" in payload:
        _print_comparison(payload["comparison"])
    final = payload["results"]["all"]
    mode = "combined" if "combined" in final else "rules"
    table = Table("label", "support", "P", "R", "F1", title=f"per label ({mode}, all)")
    for label, entry in final[mode]["labels"].items():
        table.add_row(label, str(entry["support"]), f"{entry['precision']:.3f}",
                      f"{entry['recall']:.3f}", f"{entry['f1']:.3f}")
    out.print(table)
    queue = final[mode]["review_queue"]
    out.print(f"review queue (distance <= {queue['max_distance']}): {queue['queued']} of "
              f"{queue['pairs']} (item, label) pairs on {queue['queued_items']} items, "
              f"{queue['queued_wrong']} of them wrong decisions; {queue['wrong']} wrong in all",
              highlight=False)
    table = Table("look-alike", "labels", "items", "wrongly tagged", title=f"traps ({mode})")
    for trap in final[mode]["traps"]:
        table.add_row(trap["phrase"], ", ".join(trap["labels"])[:60], str(trap["items"]),
                      str(trap["wrongly_tagged"]))
    out.print(table)


def _print_comparison(comparison: dict[str, Any]) -> None:
    out.print(f"comparison (combined): second = {comparison['second']}, first = "
              f"{comparison['first']}; {comparison['confidence']:.0%} paired intervals over "
              f"{comparison['resamples']:,} resamples", highlight=False, markup=False)
    for subset, rows in comparison["subsets"].items():
        table = Table("figure", "first", "second", "second - first", "interval",
                      title=f"comparison, {subset}")
        for name, row in rows.items():
            interval = row["interval"]
            table.add_row(name, _fmt(row["first"]), _fmt(row["second"]),
                          "-" if row["difference"] is None else f"{row['difference']:+.3f}",
                          "-" if interval is None
                          else f"{interval[0]:+.3f} to {interval[1]:+.3f}")
        out.print(table)


def _print_intervals(subset: str, mode: str, intervals: dict[str, Any]) -> None:
    def span(name: str) -> str:
        value = intervals[name]
        return "-" if value is None else f"{value[0]:.3f}-{value[1]:.3f}"

    out.print(f"{subset}, {mode}: {intervals['confidence']:.0%} intervals over "
              f"{intervals['resamples']:,} resamples of the items: relevance F1 "
              f"{span('relevance_f1')}, themes micro {span('theme_micro_f1')} / macro "
              f"{span('theme_macro_f1')}, anniversaries micro {span('anniversary_micro_f1')} "
              f"/ macro {span('anniversary_macro_f1')}", highlight=False)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@handle_errors
def review_cmd(
    typer_ctx: typer.Context,
    date_from: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD); "
                                                  "default: the last 30 days")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day, inclusive")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="Only this theme or "
                                                    "anniversary id (repeatable)")] = None,
    unit: Annotated[list[str] | None, typer.Option("--unit", help="Only this unit's items "
                                                   "(repeatable)")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 50,
    max_items: Annotated[int, typer.Option("--max-items", min=1, max=20_000,
                                           help="Newest items scored")] = 2000,
    max_distance: Annotated[float, typer.Option("--max-distance", min=0.0, max=10.0,
                                                help="Largest distance to the threshold "
                                                     "(log-odds)")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The labels the classifier is least sure of on stored items (answer them on /review)."""
    from classifier.review import build_queue, default_period
    from classifier.tagger import build_tagger
    from dophu.dates import now_local
    from store.base import Filters

    context = context_of(typer_ctx)
    plan = context.plan
    known = set(plan.label_ids("theme")) | set(plan.label_ids("anniversary"))
    for wanted in label or []:
        if wanted not in known:
            raise BadInput(f"--label: unknown label id {wanted!r} in plan {plan.id!r} "
                           "(see 'dophu plan show')")
    units = {u.id for u in plan.units}
    for wanted in unit or []:
        if wanted not in units:
            raise BadInput(f"--unit: unknown unit id {wanted!r} in plan {plan.id!r}")
    first, last = default_period(_day(date_from, "--from") if date_from else None,
                                 _day(date_to, "--to") if date_to else None,
                                 now_local().date())
    if last is not None and first > last:
        raise BadInput(f"--from ({first}) is after --to ({last})")
    queue = build_queue(context.store, build_tagger(plan, context.model_path),
                        Filters(date_from=first, date_to=last, units=list(unit or [])),
                        limit=limit, labels=label or None, max_items=max_items,
                        max_distance=max_distance)

    if as_json:
        emit_json(queue.as_json(plan.label_name))
        return
    out.print(f"{queue.items_in_period} items from {queue.date_from} to "
              f"{queue.date_to or 'now'}, {queue.items_scored} scored "
              f"({'model ' + queue.model if queue.model else 'rules only'}): "
              f"{len(queue.candidates)} labels to review")
    table = Table("item", "label", "score / threshold", "stored", "title")
    for c in queue.candidates:
        table.add_row(c.item.id[:12], c.label, f"{c.score:.2f} / {c.threshold:.2f}",
                      "yes" if c.stored else "no", c.item.title[:70])
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("tag")(tag_cmd)
    app.command("train")(train_cmd)
    app.command("evaluate")(evaluate_cmd)
    app.command("review")(review_cmd)
