"""Measure what an item weighs in Elasticsearch, for sizing a cluster (docs/scaling.md).

Run: ``.venv/bin/python -m store.elastic.measure [--corpus FILE.jsonl.gz] [--html DIR]``

Builds items the way the importer does from the shared corpus (title + RSS
summary) and from real article pages (full text extracted with trafilatura), and
prints the average size of the indexed document (``_source`` JSON, UTF-8) and of
the title + text alone.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
from pathlib import Path

from dophu.models import Item, Tag, item_id_for_url
from store.elastic.index import to_document

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _sizes(items: list[Item]) -> dict[str, float]:
    documents = [len(json.dumps(to_document(i), ensure_ascii=False).encode()) for i in items]
    texts = [len((i.title + i.text).encode()) for i in items]
    return {"items": len(items), "document_bytes_mean": round(statistics.fmean(documents)),
            "document_bytes_p95": round(sorted(documents)[int(len(documents) * 0.95) - 1]),
            "title_text_bytes_mean": round(statistics.fmean(texts))}


def _tagged(url: str, title: str, text: str, published: str | None) -> Item:
    # two tags with evidence: what a relevant item carries after classification
    return Item(id=item_id_for_url(url), url=url, source="measure", unit="measure",
                kind="newspaper", title=title, text=text, published_at=published,
                fetched_at=published, relevant=True,
                themes=[Tag(id="dai-hoi-dang", score=0.91, evidence=["đại hội đảng bộ"]),
                        Tag(id="niem-tin-moi", score=0.55, evidence=["kỷ nguyên mới"])])


def corpus_items(path: Path, limit: int | None) -> list[Item]:
    items = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if limit is not None and number >= limit:
                break
            row = json.loads(line)
            items.append(_tagged(row["url"], row["title"], row.get("summary") or "",
                                 row.get("seen_at")))
    return items


def article_items(folder: Path) -> list[Item]:
    import trafilatura

    items = []
    for page in sorted(folder.glob("*_article*.html")):
        html = page.read_text(encoding="utf-8", errors="replace")
        text = trafilatura.extract(html, favor_precision=True) or ""
        meta = trafilatura.extract_metadata(html)
        title = (meta.title if meta and meta.title else page.stem)
        items.append(_tagged(f"https://example.vn/{page.name}", title, text, None))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "vn-news-2025-2026.jsonl.gz")
    parser.add_argument("--html", type=Path, default=SHARED / "html")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    report = {"corpus (title + RSS summary)": _sizes(corpus_items(args.corpus, args.limit)),
              "full articles": _sizes(article_items(args.html))}
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
