"""An event as an iCalendar file (RFC 5545), made with the `icalendar` package.

The start is written in UTC: every calendar shows it in its owner's zone, and
no VTIMEZONE (with its table of daylight-saving rules) has to travel along.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from icalendar import Event as VEvent

from bridgechat.store.events import Event


def in_language(texts: dict[str, str], lang: str | None) -> str:
    """The text in `lang`, else English, else any."""
    if lang and lang in texts:
        return texts[lang]
    return texts.get("en") or next(iter(texts.values()), "")


def calendar(event: Event, url: str, host: str, lang: str | None, now: float) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Bridgechat//conversation day//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    vevent = VEvent()
    vevent.add("uid", f"event-{event.id}@{host}")
    vevent.add("dtstamp", datetime.fromtimestamp(now, UTC))
    vevent.add("dtstart", datetime.fromtimestamp(event.starts, UTC))
    vevent.add("duration", timedelta(minutes=event.length_min))
    vevent.add("summary", in_language(event.titles, lang))
    description = in_language(event.descriptions, lang)
    vevent.add("description", f"{description}\n\n{url}".strip())
    vevent.add("url", url)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    cal.add_component(vevent)
    data: bytes = cal.to_ical()
    return data
