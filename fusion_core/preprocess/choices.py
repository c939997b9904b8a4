"""Kept for older imports: the one ``parse_choice`` lives in :mod:`fusion_core.choices`."""

from fusion_core.choices import ChoiceError, parse_choice

__all__ = ["ChoiceError", "parse_choice"]
