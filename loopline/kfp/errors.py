"""The one error type of loopline's KFP commands, and the one-line form its messages take.

A KFP request that fails in a way the user can act on (an unreachable host, refused credentials,
an unknown name, bad input) raises ClusterError; `loopline` prints it as one line on stderr and
exits with code 2, so every message is squeezed onto one line of bounded length.
"""

from __future__ import annotations

from components.errors import LooplineInputError


class ClusterError(LooplineInputError):
    """A KFP request failed in a way the user can act on; the message is one line."""


def one_line(text: str, limit: int = 300) -> str:
    """`text` with its whitespace runs (newlines included) as single spaces, cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
