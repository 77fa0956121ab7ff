"""Items for store tests, built the way the importer builds them."""

from __future__ import annotations

from dophu.models import Item, Tag, item_id_for_url


def make_item(n: int, *, title: str = "", text: str = "", published_at: str | None =
              "2025-04-28T08:15:00+07:00", source: str = "baocantho", unit: str = "bao-can-tho",
              kind: str = "newspaper", themes: dict[str, float] | None = None,
              anniversaries: dict[str, float] | None = None, relevant: bool | None = None,
              duplicate_of: str | None = None) -> Item:
    url = f"https://example.vn/bai-{n}.html"
    themes = themes or {}
    anniversaries = anniversaries or {}
    if relevant is None and (themes or anniversaries):
        relevant = True
    return Item(
        id=item_id_for_url(url), url=url, source=source, unit=unit, kind=kind,
        title=title or f"Bài số {n}", text=text or f"Nội dung bài số {n}.",
        published_at=published_at, fetched_at="2025-05-01T00:00:00+00:00", relevant=relevant,
        themes=[Tag(id=k, score=v, evidence=[f"bằng chứng {k}"]) for k, v in themes.items()],
        anniversaries=[Tag(id=k, score=v, evidence=["30/4/1975"])
                       for k, v in anniversaries.items()],
        duplicate_of=duplicate_of,
    )
