"""parse_choice: one parser for every string option, case-insensitive, errors list the allowed values."""

from __future__ import annotations

from enum import StrEnum

import pytest

from fusion_core.choices import ChoiceError, parse_choice
from fusion_core.errors import FusionError


class Colour(StrEnum):
    DARK_RED = "dark_red"
    BLUE = "blue"


def test_values_names_and_spellings_parse():
    assert parse_choice(Colour, "blue") is Colour.BLUE
    assert parse_choice(Colour, " BLUE ") is Colour.BLUE
    assert parse_choice(Colour, "Dark Red") is Colour.DARK_RED
    assert parse_choice(Colour, "DARK_RED") is Colour.DARK_RED
    assert parse_choice(Colour, Colour.BLUE) is Colour.BLUE


def test_unknown_value_names_the_option_and_lists_allowed_values():
    with pytest.raises(ChoiceError, match=r"unknown colour 'green'; .*allowed values: 'dark_red', 'blue'"):
        parse_choice(Colour, "green", "colour")
    with pytest.raises(ChoiceError, match="unknown Colour 'green'"):
        parse_choice(Colour, "green")


def test_choice_error_is_in_the_core_error_family():
    assert issubclass(ChoiceError, FusionError) and issubclass(ChoiceError, ValueError)


def test_old_locations_share_the_one_implementation():
    from fusion_core.models.config import parse_choice as models_parse
    from fusion_core.preprocess.choices import parse_choice as preprocess_parse

    assert models_parse is parse_choice and preprocess_parse is parse_choice
