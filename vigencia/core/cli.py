"""Argument types for the management commands. argparse turns their errors into a usage message and
exit status 2, as it does for its own types; an error raised later, in `handle`, comes after a progress
bar has been drawn or a batch created."""

from __future__ import annotations

from argparse import ArgumentTypeError
from collections.abc import Callable

# An import's exit status when it kept the good rows and refused some (listed with their line numbers):
# a script that runs it can tell "done" (0) from "look at the rejected rows" (3) from "nothing done" (1).
EXIT_BAD_ROWS = 3


def number(
    kind: type[int] | type[float], *, low: float, high: float | None = None, below: float | None = None
) -> Callable[[str], int | float]:
    """A parser for an int or float from `low` up to `high` (inclusive) or `below` (exclusive)."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise ArgumentTypeError(f"not {'an integer' if kind is int else 'a number'}: {text!r}") from None
        if value < low or (high is not None and value > high) or (below is not None and value >= below):
            bound = (
                f"from {low} to {high}"
                if high is not None
                else f"from {low}, below {below}"
                if below is not None
                else f"{low} or more"
            )
            raise ArgumentTypeError(f"{text} is out of range ({bound})")
        return value

    return parse
