"""One plot theme: a plotly template with readable fonts, and fixed colours per modality and fusion strategy.

The same modality or strategy has the same colour on every page (colour-blind-safe Okabe–Ito hues first).
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from fusion_core.errors import FusionError
from fusion_core.evaluation.strategies import strategy_key

MODALITY_COLOURS: dict[str, str] = {
    "CT": "#0072B2",  # blue
    "MR-T1": "#D55E00",  # vermilion
    "MR-T2": "#CC79A7",  # reddish purple
}

STRATEGY_COLOURS: dict[str, str] = {
    "ct": MODALITY_COLOURS["CT"],
    "mr": MODALITY_COLOURS["MR-T1"],
    "early": "#009E73",
    "intermediate-concat": "#E69F00",
    "intermediate-tensor": "#882255",
    "intermediate-attention": "#56B4E9",
    "poe": "#117733",
    "late": "#999933",
    "hybrid": "#44AA99",
    "uncertainty-late": "#AA4499",
    "classical baseline": "#A0A0A0",
    "classical-lr": "#777777",
    "classical-mksvm": "#8C6D31",
    "independence bound": "#000000",
}

FONT_FAMILY = "Source Sans Pro, Helvetica, Arial, sans-serif"

TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": FONT_FAMILY, "size": 14},
        "title": {"font": {"size": 17}},
        "xaxis": {"title": {"font": {"size": 14}}, "tickfont": {"size": 12}, "automargin": True},
        "yaxis": {"title": {"font": {"size": 14}}, "tickfont": {"size": 12}, "automargin": True},
        "legend": {"font": {"size": 13}},
        "colorway": list(STRATEGY_COLOURS.values()),
        "hoverlabel": {"font": {"size": 13}},
    }
)
pio.templates["fusion"] = TEMPLATE


def modality_colour(modality: str) -> str:
    """Hex colour of "CT", "MR-T1" or "MR-T2" ("MR" is the T1).

    Raises:
        FusionError: unknown modality (the message lists the known ones).
    """
    name = "MR-T1" if modality.upper() == "MR" else modality.upper()
    return _lookup(MODALITY_COLOURS, name, "modality")


def strategy_colour(strategy: str) -> str:
    """Hex colour of a fusion strategy ("early", "poe", ...), the classical baseline or the independence bound.

    Raises:
        FusionError: unknown strategy (the message lists the known ones).
    """
    return _lookup(STRATEGY_COLOURS, str(strategy).lower(), "strategy")


def _lookup(table: dict[str, str], key: str, what: str) -> str:
    if key not in table:
        raise FusionError(f"no colour for {what} {key!r}; known: {', '.join(table)}")
    return table[key]


def colour_of(strategy: str) -> str:
    """Theme colour of a classifier name ("clf-early"); grey for one the theme does not know."""
    try:
        return strategy_colour(strategy_key(strategy))
    except ValueError:
        return "#777777"
