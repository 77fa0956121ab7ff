"""Vietnamese words and number/date forms shared by every renderer.

Numbers are written the Vietnamese way (1.234; 37,5%), dates day first
(28/04/2025), times in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

from datetime import date, datetime

from dophu.dates import to_local

HEALTH_LABELS = {
    "ok": "thu thập tốt",
    "import": "nhập thủ công",
    "failing": "lỗi thu thập",
    "not_crawled": "chưa thu thập",
    "disabled": "tạm dừng",
}

STATUS_LABELS = {
    "ok": "tốt",
    "failing": "nguồn lỗi",
    "partial": "lỗi một phần",
    "not_crawled": "chưa thu thập",
    "not_monitored": "chưa theo dõi",
}

GROUP_LABELS = {
    "press": "báo chí", "broadcaster": "phát thanh - truyền hình", "party": "cơ quan Đảng",
    "government": "chính quyền", "department": "sở, ngành", "front": "Mặt trận",
    "mass-organization": "đoàn thể", "district": "quận, huyện", "ward": "phường, xã",
    "reference": "tham khảo", "unknown": "ngoài kế hoạch",
}

WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")

GRANULARITY_LABELS = {"day": "ngày", "week": "tuần", "month": "tháng"}

SECTION_TITLES = {
    "summary": "1. Tổng quan",
    "themes": "2. Theo chủ đề",
    "units": "3. Theo đơn vị",
    "sources": "3b. Theo nguồn tin",
    "anniversaries": "4. Ngày kỷ niệm",
    "top_items": "5. Tin bài tiêu biểu theo chủ đề",
    "quality": "6. Chất lượng gắn nhãn",
    "periods": "Diễn biến theo thời gian",
}


def fmt_int(value: int | None) -> str:
    if value is None:
        return "–"
    text = f"{abs(value):,}".replace(",", ".")
    return f"-{text}" if value < 0 else text


def fmt_signed(value: int) -> str:
    if value > 0:
        return f"+{fmt_int(value)}"
    if value < 0:
        return f"−{fmt_int(-value)}"
    return "0"


def fmt_pct(share: float | None, digits: int = 1) -> str:
    """0.375 → "37,5%"; None → "–"."""
    if share is None:
        return "–"
    text = f"{share * 100:.{digits}f}".replace(".", ",")
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return f"{text}%"


def fmt_change_pct(share: float | None) -> str:
    if share is None:
        return "–"
    sign = "+" if share > 0 else ("−" if share < 0 else "")
    return sign + fmt_pct(abs(share))


def fmt_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "–"


def fmt_short_date(day: date) -> str:
    return day.strftime("%d/%m")


def fmt_datetime(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    return to_local(moment).strftime("%H:%M %d/%m/%Y")


def fmt_score(score: float) -> str:
    return f"{score:.2f}".replace(".", ",")


def days_to_text(days: int, day: date, date_from: date, date_to: date, word: str) -> str:
    """When an anniversary falls, seen from the report's period (``word``: tuần or kỳ);
    ``days`` is the anniversary date minus the period's first day."""
    if day < date_from:
        return f"đã qua {-days} ngày"
    if day > date_to:
        return f"còn {days} ngày"
    if word == "tuần":
        return f"{WEEKDAYS[day.weekday()]} tuần này"
    return f"trong {word} này"


def period_label(key: str, granularity: str) -> str:
    """"2025-W18" → "Tuần 18/2025"; "2025-04" → "Tháng 4/2025"; a day → "28/04"."""
    if granularity == "week" and "-W" in key:
        year, week = key.split("-W")
        return f"Tuần {int(week)}/{year}"
    if granularity == "month":
        year, month = key.split("-")
        return f"Tháng {int(month)}/{year}"
    return date.fromisoformat(key).strftime("%d/%m")


def short_period_label(key: str, granularity: str) -> str:
    """For chart axes: "T18", "4/25", "28/04"."""
    if granularity == "week" and "-W" in key:
        return "T" + str(int(key.split("-W")[1]))
    if granularity == "month":
        year, month = key.split("-")
        return f"{int(month)}/{year[2:]}"
    return date.fromisoformat(key).strftime("%d/%m")


def short_name(name: str, limit: int = 32) -> str:
    """A theme name short enough for a column header: up to the first comma, or cut."""
    head = name.split(",")[0].strip()
    if len(head) <= limit:
        return head
    cut = head[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def report_title(kind: str, week: str | None, date_from: date, date_to: date,
                 unit_name: str | None = None) -> str:
    if kind == "weekly" and week:
        year, number = week.split("-W")
        title = (f"Báo cáo độ phủ tuần {int(number)}/{year} "
                 f"({fmt_short_date(date_from)} – {fmt_date(date_to)})")
    else:
        title = f"Báo cáo độ phủ từ {fmt_date(date_from)} đến {fmt_date(date_to)}"
    if unit_name:
        title += f" — {unit_name}"
    return title


def period_word(kind: str) -> str:
    """"tuần này"/"tuần trước" for a weekly report, "kỳ này"/"kỳ trước" for a range."""
    return "tuần" if kind == "weekly" else "kỳ"
