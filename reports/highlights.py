"""The few Vietnamese sentences a reader sees first: the report's answer at a glance.

Written from the finished report's numbers (never from the store), so the
sentences say exactly what the tables below them say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reports.labels import (
    days_to_text,
    fmt_change_pct,
    fmt_date,
    fmt_int,
    fmt_pct,
    fmt_short_date,
    fmt_signed,
    period_word,
    short_name,
)

if TYPE_CHECKING:
    from reports.model import Report, UnitRow

MAX_NAMES = 8


def _names(units: list[UnitRow], detail: dict[str, str] | None = None) -> str:
    shown = [u.name + (f" ({detail[u.id]})" if detail and detail.get(u.id) else "")
             for u in units[:MAX_NAMES]]
    more = len(units) - len(shown)
    return "; ".join(shown) + (f" và {more} đơn vị khác" if more > 0 else "")


def highlights_for(report: Report) -> list[str]:
    word = period_word(report.kind)
    this, last = f"{word} này", f"{word} trước"
    t = report.totals
    out: list[str] = []
    if report.empty:
        out.append(f"Không thu thập được tin bài nào trong {this} "
                   f"(từ {fmt_short_date(report.date_from)} đến {fmt_date(report.date_to)}); "
                   f"{last}: {fmt_int(t.previous_items)} tin bài.")
    else:
        out.append(
            f"{this.capitalize()} thu thập {fmt_int(t.items)} tin bài ({last} "
            f"{fmt_int(t.previous_items)}, {fmt_signed(t.items_change)}); "
            f"{fmt_int(t.relevant)} tin bài thuộc phạm vi kế hoạch "
            f"({fmt_pct(t.relevant_share)}; {last} {fmt_int(t.previous_relevant)}, "
            f"{fmt_change_pct(t.relevant_change_pct)}).")
        majors = ", ".join(f"{short_name(m.name)} {fmt_int(m.items)} ({fmt_signed(m.change)})"
                           for m in report.major_themes)
        if majors:
            out.append(f"Các chủ đề lớn: {majors}.")

    responsible = report.responsible_units
    with_gaps = [u for u in responsible if u.gaps and not u.silent]
    if with_gaps:
        detail = {u.id: "thiếu: " + ", ".join(short_name(report.theme_name(g)) for g in u.gaps)
                  for u in with_gaps}
        out.append(f"{len(with_gaps)} đơn vị chưa có tin bài về ít nhất một chủ đề lớn: "
                   f"{_names(with_gaps, detail)}.")
    covered_all = [u for u in responsible if u.status == "ok" and not u.gaps]
    if covered_all and not any(u.gaps for u in responsible) and not report.empty:
        who = (covered_all[0].name if report.unit
               else f"Cả {len(covered_all)} đơn vị được theo dõi tốt")
        out.append(f"{who} đã có tin bài về tất cả các chủ đề lớn {this}.")
    silent = [u for u in responsible if u.silent]
    if silent:
        out.append(f"{len(silent)} đơn vị không đăng tin bài nào {this}: {_names(silent)}.")
    failing = [u for u in responsible if u.status in ("failing", "partial") and u.failing_sources]
    if failing:
        detail = {u.id: "nguồn lỗi: " + ", ".join(u.failing_sources) for u in failing}
        out.append(f"{len(failing)} đơn vị có nguồn thu thập bị lỗi (không tính là thiếu tin, "
                   f"cần kiểm tra trang): {_names(failing, detail)}.")
    not_crawled = [u for u in responsible if u.status == "not_crawled"]
    if not_crawled:
        out.append(f"{len(not_crawled)} đơn vị chưa được thu thập {this}: "
                   f"{_names(not_crawled)}.")
    for anniversary in report.anniversaries:
        timing = days_to_text(anniversary.days_to, anniversary.date, report.date_from,
                              report.date_to, word)
        out.append(f"{anniversary.name} ({fmt_date(anniversary.date)}, {timing}): "
                   f"{fmt_int(anniversary.items)} tin bài "
                   f"{this}, {fmt_int(anniversary.items_in_window)} tin bài từ đầu đợt tuyên "
                   "truyền.")
    return out
