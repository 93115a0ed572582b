"""loopline.kfp.cron.to_kfp: property tests against croniter, an independent cron evaluator.

croniter evaluates both sides: the original 5-field expression, and the converted 6-field
one rotated to croniter's seconds-last order. Both run with `implement_cron_bug=True`, the
crontab(5) rule (day-of-month and day-of-week are ANDed when either field *starts with* '*',
ORed otherwise); for the shapes to_kfp emits ('*' only on a leading item) that is also
robfig/cron v1.2.0's rule (AND when any item is '*' or '*/n'), which KFP runs.

croniter quirks the generator steers around (each is a croniter reading, not crontab(5)'s):
- an equal range is the whole cycle: "5-5" fires every day ("Jan-Jan" by design);
- a reversed range wraps ("22-2", "MON-SUN" = all days); crontab(5) and robfig refuse it;
- "a/n" means a-max/n; crontab(5) does not define it (to_kfp refuses it);
- a full list ("1-31") becomes '*' when the *other* day field contains a '*' anywhere, so a
  non-leading '*' item ("1,*/2") turns AND on where crontab(5) ORs (to_kfp rewrites such
  items; examples below).
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from croniter import CroniterBadDateError, croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from components.errors import LooplineInputError
from loopline.kfp.cron import BOUNDS, FIELDS, MACROS, MONTHS, WEEKDAYS, to_kfp

FIRES = 50
LAST_YEAR = 2090  # croniter stops at 2099


def fire_times(expression: str, start: datetime) -> list[datetime]:
    """The next FIRES times (before LAST_YEAR) croniter computes, crontab(5) day rule."""
    it = croniter(expression, start, implement_cron_bug=True)
    times: list[datetime] = []
    while len(times) < FIRES:
        moment = it.get_next(datetime)
        if moment.year >= LAST_YEAR:
            break
        times.append(moment)
    return times


def as_croniter(kfp_cron: str) -> str:
    """KFP's seconds-first 6 fields in croniter's seconds-last order."""
    seconds, *rest = kfp_cron.split()
    return " ".join([*rest, seconds])


@st.composite
def labels(draw: st.DrawFn, field: str, number: int) -> str:
    """A number, or its month/day name in random case."""
    names = {"month": MONTHS[number - 1] if field == "month" else None,
             "day-of-week": WEEKDAYS[number] if field == "day-of-week" and number < 7 else None}
    name = names.get(field)
    if name and draw(st.booleans()):
        return "".join(c.upper() if draw(st.booleans()) else c for c in name)
    return str(number)


@st.composite
def items(draw: st.DrawFn, field: str, first: bool) -> str:
    """One list item; '*' only leads a list (see the croniter quirks above)."""
    low, high = BOUNDS[field]
    span = high - low + 1
    kind = draw(st.sampled_from(["number", "range", "range/step"] + (["*", "*/step"] if first else [])))
    if kind == "*":
        return "*"
    if kind == "*/step":
        return f"*/{draw(st.integers(1, span))}"
    if kind == "number":
        return draw(labels(field, draw(st.integers(low, high))))
    start = draw(st.integers(low, high - 1))
    text = f"{draw(labels(field, start))}-{draw(labels(field, draw(st.integers(start + 1, high))))}"
    return text + (f"/{draw(st.integers(1, span))}" if kind == "range/step" else "")


@st.composite
def fields(draw: st.DrawFn, field: str) -> str:
    count = draw(st.integers(1, 3))
    return ",".join(draw(items(field, index == 0)) for index in range(count))


@st.composite
def expressions(draw: st.DrawFn) -> str:
    """A valid crontab(5) expression: macros, numbers, names, ranges, steps, lists, 7 = Sunday."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(sorted(MACROS)))
    return " ".join(draw(fields(field)) for field in FIELDS)


@settings(max_examples=200, deadline=None)
@given(expression=expressions(), start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 1, 1)))
def test_every_valid_expression_keeps_its_meaning(expression: str, start: datetime) -> None:
    try:
        converted = to_kfp(expression)
    except LooplineInputError as exc:  # only for dates that never occur: croniter must agree
        assert "never run" in str(exc), exc
        with pytest.raises(CroniterBadDateError):
            croniter(expression, start, implement_cron_bug=True).get_next(datetime)
        return
    parts = converted.split()
    assert len(parts) == 6 and parts[0] == "0", converted
    assert max(map(int, re.findall(r"\d+", re.sub(r"/\d+", "", parts[5])) or [0])) <= 6, "robfig's weekdays: 0-6"
    assert fire_times(as_croniter(converted), start) == fire_times(expression, start), converted


@st.composite
def broken(draw: st.DrawFn) -> tuple[str, str]:
    """A valid expression with one field broken, and that field's name."""
    texts = [draw(fields(field)) for field in FIELDS]
    index = draw(st.integers(0, 4))
    field = FIELDS[index]
    low, high = BOUNDS[field]
    texts[index] = draw(st.sampled_from([
        str(draw(st.integers(high + 1, high + 100))),             # out of range
        f"*/{draw(st.sampled_from([0, high - low + 2]))}",         # bad step
        draw(st.sampled_from(["foo", "janu", "mo", "x1", "L"])),  # bad name
        f"{low},",                                                 # empty list item
        f"{high}-{low}",                                           # backwards range
        f"{low}/2",                                                # a/n without a range end
        "?",
    ]))
    return " ".join(texts), field


@settings(max_examples=200, deadline=None)
@given(case=broken())
def test_an_invalid_field_is_refused_and_named(case: tuple[str, str]) -> None:
    expression, field = case
    with pytest.raises(LooplineInputError, match=f"cron field '{field}'"):
        to_kfp(expression)


@pytest.mark.parametrize("expression, expected", [
    ("0 2 * * *", "0 0 2 * * *"),
    ("@daily", "0 0 0 * * *"),
    ("@midnight", "0 0 0 * * *"),
    ("@hourly", "0 0 * * * *"),
    ("@weekly", "0 0 0 * * 0"),
    ("@monthly", "0 0 0 1 * *"),
    ("@yearly", "0 0 0 1 1 *"),
    ("@ANNUALLY", "0 0 0 1 1 *"),
    ("*/15 * * * *", "0 */15 * * * *"),
    ("30 6 * * 7", "0 30 6 * * 0"),
    ("0 0 * * 5-7", "0 0 0 * * 5,6,0"),
    ("0 0 * * 1-7/2", "0 0 0 * * 1,3,5,0"),
    ("0 9 * JAN-mar Mon-FRI", "0 0 9 * 1-3 1-5"),
    ("0 0 5-5 * *", "0 0 0 5 * *"),
    ("  0   2 * *  *  ", "0 0 2 * * *"),
    # crontab(5) ANDs the day fields here ('*/2' leads); robfig v1.2.0 too ('*/2' keeps its star bit)
    ("0 0 */2 * 1-5", "0 0 0 */2 * 1-5"),
    # crontab(5) ORs here (no field starts with '*'); a kept '*/2' would make robfig AND them
    ("0 0 1,*/2 * 1", "0 0 0 1,1-31/2 * 1"),
    ("0 0 13 * 5,*", "0 0 0 13 * 5,0,1,2,3,4,6"),
])
def test_examples(expression: str, expected: str) -> None:
    assert to_kfp(expression) == expected


@pytest.mark.parametrize("expression, message", [
    ("0 24 * * *", "cron field 'hour': 24 is out of range 0-23"),
    ("60 * * * *", "cron field 'minute': 60 is out of range 0-59"),
    ("0 0 0 * *", "cron field 'day-of-month': 0 is out of range 1-31"),
    ("0 0 * 13 *", "cron field 'month': 13 is out of range 1-12"),
    ("0 0 * * 8", "cron field 'day-of-week': 8 is out of range 0-7"),
    ("0 0 * * MON-SUN", "cron field 'day-of-week': range 'MON-SUN' runs backwards"),
    ("0 22-2 * * *", "cron field 'hour': range '22-2' runs backwards"),
    ("*/0 * * * *", "cron field 'minute': step 0"),
    ("0/15 * * * *", "cron field 'minute': '0/15' is not standard cron; write 0-59/15"),
    ("0 0 * JANUARY *", "cron field 'month': 'JANUARY' is not a number or a month name"),
    ("0 0 * * funday", "cron field 'day-of-week': 'FUNDAY' is not a number or a day name"),
    ("1,,2 * * * *", "cron field 'minute': empty item in '1,,2'"),
    ("0 0 ? * *", "cron field 'day-of-month'"),
    ("0 0 L * *", "cron field 'day-of-month'"),
    ("0 0 * * 1#2", "cron field 'day-of-week'"),
    ("0 0 * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
    ("0 0 2 * * *", "got 6 (for KFP's seconds-first form, drop the leading seconds field"),
    ("0 0 0 2 * * 2030", "got 7"),
    ("", "got 0"),
    ("@reboot", "cron macro '@reboot' is not supported"),
    ("@every 1h", "cron macro '@every 1h' is not supported"),
    ("0 0 31 2,4 *", "cron fields 'day-of-month' '31' and 'month' '2,4': no such date"),
    ("0 0 30 2 *", "never run"),
])
def test_invalid_expressions_are_refused(expression: str, message: str) -> None:
    with pytest.raises(LooplineInputError) as caught:
        to_kfp(expression)
    assert message in str(caught.value)


def test_or_of_day_fields_still_runs_when_the_date_never_occurs() -> None:
    """Day 31 of February ORed with Mondays: crontab(5) runs every Monday of February."""
    assert to_kfp("0 0 31 2 1") == "0 0 0 31 2 1"
    assert fire_times(as_croniter("0 0 0 31 2 1"), datetime(2030, 1, 1))[0] == datetime(2030, 2, 4)


def test_five_fields_as_kfp_reads_them_run_at_the_wrong_times() -> None:
    """kubeflow/pipelines#5748: robfig v1 reads '0 2 * * *' as second 0, minute 2, every hour."""
    start = datetime(2030, 1, 1)
    as_kfp_reads_it = "2 * * * * 0"  # minute hour dom month dow second (dow defaulted to '*')
    assert fire_times(as_kfp_reads_it, start)[:2] == [datetime(2030, 1, 1, 0, 2), datetime(2030, 1, 1, 1, 2)]
    assert fire_times(as_croniter(to_kfp("0 2 * * *")), start)[:2] == [datetime(2030, 1, 1, 2), datetime(2030, 1, 2, 2)]
