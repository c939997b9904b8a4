"""Parse user-facing string choices into StrEnums with an error that lists the allowed values."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


def parse_choice(enum_cls: type[E], value: str | E, what: str) -> E:
    """Return ``enum_cls(value)``, or raise a ValueError naming ``what`` and the allowed values.

    Args:
        enum_cls: the StrEnum to parse into.
        value: a member or its string value (case-insensitive, spaces/hyphens as underscores ok).
        what: the option's name, used in the error message (e.g. ``"mode"``).
    """
    if isinstance(value, enum_cls):
        return value
    text = str(value).strip().lower()
    for member in enum_cls:
        if text in (member.value.lower(), member.name.lower(), member.value.lower().replace("_", " ")):
            return member
    allowed = ", ".join(repr(m.value) for m in enum_cls)
    raise ValueError(f"unknown {what} {value!r}; allowed values: {allowed}")
