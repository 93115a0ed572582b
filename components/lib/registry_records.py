"""The rules every record of the model registry follows: the names it accepts, its JSON, its time stamps, its error.

The registry (`registry`: versions and aliases) and its audit log (`registry_audit`) both write
through these, so a version, an alias and an event are named, serialised and stamped alike.
No I/O here, and nothing imports TensorFlow or kfp: the serving environment uses the registry too.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from components.errors import LooplineInputError

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class RegistryError(LooplineInputError):
    """A registry request cannot be served: a bad name, an unknown version or alias, nothing to roll back to."""


def check_name(value: str, kind: str = "model") -> str:
    """Return `value` if it is a valid model or alias name, else raise RegistryError naming it."""
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise RegistryError(
            f"invalid {kind} name {value!r}: use 1-63 characters from a-z, 0-9, '.', '_', '-', "
            "starting with a letter or digit")
    return value


def check_number(model: str, number: int) -> int:
    """Return `number` if it can number a version of `model` (a whole number from 1), else raise RegistryError."""
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise RegistryError(f"invalid version {number!r} of model {model!r}: versions are whole numbers from 1")
    return number


def require_reason(reason: str, action: str) -> None:
    """Raise RegistryError unless `reason` is non-blank text: every alias change is explained in the audit log."""
    if not isinstance(reason, str) or not reason.strip():
        raise RegistryError(f"{action} needs a reason (it goes into the audit log)")


def check_json(value: Any, what: str) -> None:
    """Raise RegistryError naming `what` unless `value` can be stored as JSON."""
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"{what} must be JSON-serialisable: {exc}") from exc


def dumps(value: Any) -> str:
    """A record as the registry stores it: indented JSON, keys sorted, one final newline."""
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


_clock = threading.Lock()
_last_time = datetime.min.replace(tzinfo=timezone.utc)


def now() -> datetime:
    """UTC now, strictly increasing within this process, so events recorded in order sort in order."""
    global _last_time
    with _clock:
        moment = datetime.now(timezone.utc)
        if moment <= _last_time:
            moment = _last_time + timedelta(microseconds=1)
        _last_time = moment
        return moment


def iso(moment: datetime) -> str:
    """A time stamp as records store it: ISO 8601 with microseconds and the UTC offset."""
    return moment.isoformat(timespec="microseconds")
