"""Parse user-facing string choices into StrEnums with an error that lists the allowed values."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from fusion_core.errors import FusionError

E = TypeVar("E", bound=StrEnum)


class ChoiceError(FusionError):
    """A string option is not one of the allowed values (the message lists them)."""


def parse_choice(enum_cls: type[E], value: str | E, what: str | None = None) -> E:
    """Return the member of ``enum_cls`` that ``value`` names.

    Args:
        enum_cls: the StrEnum to parse into.
        value: a member, its value or its name; case-insensitive, spaces for underscores allowed.
        what: the option's name for the error message (e.g. ``"mode"``); defaults to the enum's name.

    Returns:
        The matching member.

    Raises:
        ChoiceError: no member matches; the message lists the allowed values.
    """
    if isinstance(value, enum_cls):
        return value
    text = str(value).strip().lower()
    for member in enum_cls:
        if text in (member.value.lower(), member.name.lower(), member.value.lower().replace("_", " ")):
            return member
    allowed = ", ".join(repr(m.value) for m in enum_cls)
    raise ChoiceError(f"unknown {what or enum_cls.__name__} {value!r}; choose one of the allowed values: {allowed}")
