"""Which classifier and attribution method point at the lesion: the measured table and the pair the app opens on.

``benchmarks/bench_explain.py`` measures the pointing game (maximum within 2 px of the lesion) and
the in-lesion fraction of every shipped classifier x method on held-out lesion slices of the demo
cohort, and writes the per-pair summary to ``assets/explain/agreement.json`` (beside
``assets/models``). :func:`recommended_attribution` reads that table.

The rule: among the pairs the Attention page can open on (a shipped classifier with an
:func:`~fusion_core.explain.attribution_map` method at its default depth), take those whose
pointing game beats a random map over the same window by at least :data:`MARGIN`; of these, the
one with the best pointing game (ties: the larger in-lesion fraction). When none clears the
margin, the best pointing game overall. A pair's score is the mean over the maps the page shows
for it (CT and MR for the fused classifiers) and over all measured slices. Without the table (or
with none of its pairs shipped) the answer is :data:`DEFAULT_PAIR`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path

from fusion_core.errors import FusionError
from fusion_core.explain.attribution import Method
from fusion_core.inference.registry import ASSETS_DIR, list_models

AGREEMENT_FILE = ASSETS_DIR.parent / "explain" / "agreement.json"
MARGIN = 0.4  # pointing game above a random map's, for a pair to count as pointing at the lesion
TARGET = 0.6  # the pointing game issue 25 asks of the recommended pair
DEFAULT_PAIR = ("clf-early", Method.INTEGRATED_GRADIENTS.value)  # best in the first bench_explain run (12 slices)
ALL_TYPES = "all"
RULE = (
    "among shipped classifier x method pairs the Attention page can open on (default Grad-CAM depth), those whose "
    f"pointing game is >= a random map's + {MARGIN}; of these the best pointing game (ties: larger in-lesion "
    "fraction); if none clears the margin, the best pointing game; scores are means over the CT and MR maps and slices"
)


@dataclasses.dataclass(frozen=True)
class PairAgreement:
    """How well one classifier x method points at the lesion, over the benchmark's slices.

    Attributes:
        model: classifier name.
        method: "gradcam", "integrated_gradients" or "lesion-map head".
        depth: Grad-CAM's encoder depth (0 finest); None for the default (the last block) and other methods.
        lesion_type: a lesion type of the phantom, or "all".
        n_slices: lesion slices measured.
        pointing, random_pointing: pointing game (± tolerance) of the maps and of a random map.
        in_lesion, random_in_lesion: share of the positive mass inside the lesion, map and random map.
    """

    model: str
    method: str
    depth: int | None
    lesion_type: str
    n_slices: int
    pointing: float
    random_pointing: float
    in_lesion: float | None
    random_in_lesion: float

    @property
    def label(self) -> str:
        """The method as a reader names it, with its depth when it has one."""
        return self.method if self.depth is None else f"{self.method} (depth {self.depth})"

    @property
    def margin(self) -> float:
        """Pointing game above a random map's."""
        return self.pointing - self.random_pointing

    @property
    def opens_on_page(self) -> bool:
        """True when the Attention page can show this method (an attribution method at its default depth)."""
        return self.depth is None and self.method in {m.value for m in Method}


def read_agreement(path: str | Path = AGREEMENT_FILE) -> list[PairAgreement]:
    """The pairs of the shipped agreement table (every lesion type and "all"); [] when there is no table.

    Raises:
        FusionError: the file exists but is not a table this code wrote.
    """
    path = Path(path)
    if not path.is_file():
        return []
    try:
        return [PairAgreement(**row) for row in json.loads(path.read_text())["pairs"]]
    except (KeyError, TypeError, ValueError) as err:
        raise FusionError(f"{path} is not an agreement table written by benchmarks/bench_explain.py ({err})") from None


def pick_recommended(pairs: Iterable[PairAgreement], margin: float = MARGIN) -> PairAgreement | None:
    """The module's rule over the "all"-types rows of pairs the page can open on; None when there is none."""
    candidates = [p for p in pairs if p.lesion_type == ALL_TYPES and p.opens_on_page]
    if not candidates:
        return None
    clear = [p for p in candidates if p.margin >= margin] or candidates
    return max(clear, key=lambda p: (p.pointing, p.in_lesion or 0.0))


def recommended_pair(path: str | Path = AGREEMENT_FILE) -> PairAgreement | None:
    """The measured row behind :func:`recommended_attribution`, among shipped classifiers; None without a table."""
    shipped = set(list_models(task="classifier"))
    return pick_recommended(p for p in read_agreement(path) if p.model in shipped)


def recommended_attribution(path: str | Path = AGREEMENT_FILE) -> tuple[str, str]:
    """(classifier name, attribution method) whose maps point at the lesion best, by the rule in this module's doc.

    Returns:
        e.g. ("clf-early", "integrated_gradients"): a shipped classifier and a method of
        :func:`~fusion_core.explain.attribution_map`; :data:`DEFAULT_PAIR` when the table is missing.
    """
    best = recommended_pair(path)
    return DEFAULT_PAIR if best is None else (best.model, best.method)
