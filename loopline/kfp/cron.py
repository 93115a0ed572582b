"""Standard 5-field cron (crontab(5), Vixie/cronie) -> the 6-field, seconds-first cron KFP reads.

KFP's scheduled-workflow controller parses `cron` with robfig/cron v1.2.0 `cron.Parse`
(seconds, minute, hour, day-of-month, month, optional day-of-week) in UTC, so a 5-field
string is accepted and read one field off (kubeflow/pipelines#5748). `to_kfp` prepends the
seconds field "0" and rewrites what robfig reads differently from crontab(5):

- day-of-week 7 (Sunday, also inside ranges such as 5-7 or 1-7/2) becomes 0: robfig stops at 6;
- month and weekday names (JAN, mon) become numbers, macros (@daily, ...) explicit fields;
- day-of-month/day-of-week: crontab(5) ANDs the two when either field *starts with* '*' and
  ORs them otherwise; robfig v1.2.0 ANDs when any list item is '*' or '*/n'. Only a leading
  item keeps its '*'; a later one is written as an explicit range (1,*/2 -> 1,1-31/2).
  (robfig v3 stopped counting '*/n' as '*'; if KFP moved to v3, '0 0 */2 * 1-5' would
  widen from AND to OR. KFP pins v1.2.0.)

Refused, with the field named: anything but 5 fields (a 6-field, already seconds-first
expression included: pass the 5 standard fields and let loopline add the seconds), values
out of range, steps < 1 or wider than the field, backwards ranges (22-2, MON-SUN), `a/n`
without a range end, empty list items, '?', 'L', 'W', '#', @reboot, @every, and dates that
never occur (day-of-month 31 with month 2,4), which KFP would silently never run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from components.errors import LooplineInputError

FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
BOUNDS = {"minute": (0, 59), "hour": (0, 23), "day-of-month": (1, 31), "month": (1, 12), "day-of-week": (0, 7)}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
NAMES = {"month": {name: i + 1 for i, name in enumerate(MONTHS)},
         "day-of-week": {name: i for i, name in enumerate(WEEKDAYS)}}
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ITEM = re.compile(r"^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/([0-9]+))?$", re.ASCII | re.IGNORECASE)


@dataclass(frozen=True)
class Item:
    """One list item of a field: low..high every step; star when written as '*'."""

    low: int
    high: int
    step: int
    star: bool


def _refuse(field: str, message: str) -> LooplineInputError:
    return LooplineInputError(f"cron field '{field}': {message}")


def _value(field: str, text: str) -> int:
    low, high = BOUNDS[field]
    if text.isdigit():
        number = int(text)
        if not low <= number <= high:
            sunday = " (0 and 7 are Sunday)" if field == "day-of-week" else ""
            raise _refuse(field, f"{number} is out of range {low}-{high}{sunday}")
        return number
    names = NAMES.get(field, {})
    if text.lower() in names:
        return names[text.lower()]
    kinds = {"month": "a number or a month name (JAN-DEC)", "day-of-week": "a number or a day name (SUN-SAT)"}
    raise _refuse(field, f"{text.upper()!r} is not {kinds.get(field, 'a number')}")


def _item(field: str, text: str) -> Item:
    match = _ITEM.match(text)
    if not match:
        raise _refuse(field, f"{text!r} is not a value, a range a-b, '*', or one of those with /step")
    star, start, end, step_text = match.groups()
    low, high = BOUNDS[field]
    step = int(step_text) if step_text else 1
    if not 1 <= step <= high - low + 1:
        raise _refuse(field, f"step {step} in {text!r} must be between 1 and {high - low + 1}")
    if star:
        return Item(low, high, step, True)
    if step_text and end is None:
        raise _refuse(field, f"{text!r} is not standard cron; write {start}-{high}/{step}")
    first = _value(field, start)
    last = _value(field, end) if end is not None else first
    if first > last:
        hint = " (SUN is 0; write 7 for a Sunday at the end)" if field == "day-of-week" else ""
        raise _refuse(field, f"range {text!r} runs backwards; cron has no wrap-around ranges{hint}")
    return Item(first, last, step, False)


def parse_field(field: str, text: str) -> list[Item]:
    """The items of one field (names resolved, ranges checked)."""
    parts = text.split(",")
    if "" in parts:
        raise _refuse(field, f"empty item in {text!r}")
    return [_item(field, part) for part in parts]


def values(field: str, items: list[Item]) -> set[int]:
    """The values a field matches under crontab(5); day-of-week 7 is folded into 0."""
    found = {v for item in items for v in range(item.low, item.high + 1, item.step)}
    return {v % 7 for v in found} if field == "day-of-week" else found


def _emit(field: str, items: list[Item]) -> str:
    low, high = BOUNDS[field]
    out: list[str] = []
    for index, item in enumerate(items):
        if item.star and index == 0:
            out.append("*" if item.step == 1 else f"*/{item.step}")
        elif field == "day-of-week" and item.high == 7:
            out.extend(str(v % 7) for v in range(item.low, 8, item.step))
        elif item.low == item.high:
            out.append(str(item.low))
        else:
            out.append(f"{item.low}-{item.high}" + (f"/{item.step}" if item.step > 1 else ""))
    return ",".join(dict.fromkeys(out))


def _check_occurs(texts: list[str], fields: dict[str, list[Item]]) -> None:
    """With day-of-month and day-of-week ANDed, some listed day must exist in some listed month."""
    if not (texts[2].startswith("*") or texts[4].startswith("*")):
        return  # ORed: every listed weekday fires
    days, months = values("day-of-month", fields["day-of-month"]), values("month", fields["month"])
    if not any(day <= DAYS_IN_MONTH[month - 1] for month in months for day in days):
        raise LooplineInputError(f"cron fields 'day-of-month' {texts[2]!r} and 'month' {texts[3]!r}: "
                                 "no such date, the schedule would never run")


def to_kfp(expression: str) -> str:
    """A standard 5-field cron expression (or macro) as KFP's 6-field, seconds-first cron."""
    text = " ".join(expression.split())
    text = MACROS.get(text.lower(), text)
    if text.startswith("@"):
        raise LooplineInputError(f"cron macro {text!r} is not supported; use one of {', '.join(MACROS)}"
                                 " or 5 fields (for a fixed interval use an interval schedule)")
    texts = text.split()
    if len(texts) != 5:
        hint = (" (for KFP's seconds-first form, drop the leading seconds field; loopline adds it)"
                if len(texts) == 6 else "")
        raise LooplineInputError(f"cron expression {expression!r}: expected 5 fields "
                                 f"({' '.join(FIELDS)}), got {len(texts)}{hint}")
    fields = {field: parse_field(field, part) for field, part in zip(FIELDS, texts)}
    _check_occurs(texts, fields)
    return " ".join(["0", *(_emit(field, items) for field, items in fields.items())])
