"""Named cohort specs: every phantom cohort the project uses, defined once.

A :class:`CohortSpec` says which people (seed, size) are drawn from which distribution (phantom
options, sites). The app's demo cohort, each training cohort and each benchmark cohort is one
named spec, and every model card names the spec and split it was trained and tested on, so what a
page shows, what a card claims and what a benchmark measures refer to the same subjects.

The story the specs tell:

* ``demo`` is the distribution the shipped lesion classifiers are trained for — every lesion
  type with its modality-specific conspicuity (calcified: CT; late subacute haemorrhage: T1 and
  T2; oedema: T2 and faintly CT) and a spread of lesion size and contrast down to lesions that
  neither modality shows reliably — drawn from a seed no training run uses. Its subjects are the
  test split of every classifier card (the shipped ``scores.csv``), and the app shows them.
* ``classifier-train`` is the same distribution from other people: its train and validation
  splits train and select the classifiers.
* ``vae-train`` and ``translator-train`` are the generators' cohorts (same anatomy, sites and
  acquisition; the VAE's lesions are calcifications and oedema, the translator's cohort is
  unpaired: CT and MR from disjoint people).

Subject ``i`` of a spec is built alone and deterministically (``cohort_subject``): seeds come
from ``SeedSequence(spec.seed, spawn_key=(i,))``, so specs with different seeds share no person.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

from fusion_core.data.phantom import cohort_subject
from fusion_core.errors import FusionError

__all__ = ["CohortSpec", "UnknownCohortError", "get_cohort_spec", "list_cohort_specs"]


class UnknownCohortError(FusionError):
    """A cohort spec name that is not defined."""


@dataclasses.dataclass(frozen=True)
class CohortSpec:
    """One phantom cohort: who (``seed``, ``n``) from which distribution (options, sites).

    Attributes:
        name: the spec's name (cards and pages refer to it).
        n: number of subjects.
        seed: cohort seed: subject ``i`` is ``cohort_subject(i, seed=seed, ...)``.
        description: one sentence for users.
        paired: every subject has CT and MR; False: even subjects CT only, odd MR only.
        sites: scanner site presets assigned in turn.
        options: keyword options of ``make_subject`` (lesion mix, conspicuity, radius, ...).
        split_fractions: train/val/test fractions of subjects when the spec is split for training.
        complementary: None, or ``{"faint": f, "mr_lesion": type}``: a cohort of two interleaved
            halves whose lesions each one modality sees — calcifications (MR conspicuity ``f``)
            drawn from ``seed`` and ``mr_lesion`` lesions (CT conspicuity ``f``) from ``seed + 1``.
    """

    name: str
    n: int
    seed: int
    description: str = ""
    paired: bool = True
    sites: tuple[str, ...] = ("A", "B", "C")
    options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    complementary: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"cohort spec {self.name!r}: n must be >= 1, got {self.n}")
        object.__setattr__(self, "options", dict(self.options))

    @property
    def phantom_options(self) -> dict[str, Any]:
        """Keyword options for ``make_subject`` / ``cohort_subject`` (a fresh dict)."""
        return dict(self.options)

    @property
    def seeds(self) -> tuple[int, ...]:
        """Every cohort seed whose people this spec draws."""
        return (self.seed, self.seed + 1) if self.complementary else (self.seed,)

    def subject(self, index: int):
        """Member ``index`` as a :class:`~fusion_core.data.phantom.PhantomSubject`, built alone."""
        if not 0 <= index < self.n:
            raise IndexError(f"cohort {self.name!r} has subjects 0..{self.n - 1}, not {index}")
        if not self.complementary:
            return cohort_subject(index, seed=self.seed, paired=self.paired, sites=self.sites, **self.phantom_options)
        half, faint = self.n // 2, float(self.complementary["faint"])
        calcified = index < 2 * half and index % 2 == 0
        inner = index // 2 if index < 2 * half else index - half
        lesion, seed = ("calcified", self.seed) if calcified else (self.complementary["mr_lesion"], self.seed + 1)
        conspicuity = {"CT": 1.0, "MR": faint} if calcified else {"CT": faint, "MR": 1.0}
        options = self.phantom_options | {"lesion_type": lesion, "conspicuity": conspicuity}
        return cohort_subject(inner, seed=seed, paired=self.paired, sites=self.sites, **options)

    def subjects(self) -> Iterator:
        """All members in order, one at a time."""
        return (self.subject(i) for i in range(self.n))

    def subject_ids(self) -> list[str]:
        """Ids of the members ("phantom-000", ...), without building them."""
        return [f"phantom-{i:03d}" for i in range(self.n)]

    def site(self, index: int) -> str:
        """Scanner site of member ``index`` (sites are assigned in turn)."""
        return self.sites[index % len(self.sites)]

    def replace(self, **changes: Any) -> CohortSpec:
        """The same distribution with other fields, e.g. ``replace(seed=7, n=20)``: other people."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description (for model cards)."""
        return json.loads(json.dumps(dataclasses.asdict(self), default=list))


# ------------------------------------------------------------------------------ the distributions
# Each lesion type is conspicuous where it is in reality, with a per-subject contrast drawn from a
# range whose low end is barely visible, and a size spread from a few voxels to a large lesion.
DEMO_OPTIONS: dict[str, Any] = {
    "prevalence": 0.5,
    "lesion_mix": ("calcified", "subacute-haemorrhage", "oedema"),
    "lesion_radius_mm": (4.0, 12.0),
    "conspicuity_by_type": {
        "calcified": {"CT": (0.3, 1.0), "MR": (0.0, 0.15)},
        "subacute-haemorrhage": {"CT": (0.0, 0.15), "MR": (0.3, 1.0)},
        "oedema": {"CT": (0.3, 1.0), "MR": (0.3, 1.0)},
    },
}

_SPECS: dict[str, CohortSpec] = {
    spec.name: spec
    for spec in (
        CohortSpec(
            name="demo",
            n=100,
            seed=2026,
            description="The app's demo cohort and the lesion classifiers' test split: every lesion type with "
            "its own conspicuity on CT, T1 and T2 and a spread of size and contrast, from people no model "
            "was trained on.",
            options=DEMO_OPTIONS,
            split_fractions=(0.0, 0.0, 1.0),
        ),
        CohortSpec(
            name="classifier-train",
            n=200,
            seed=1000,
            description="The demo distribution drawn from other people: train and validation splits of the "
            "lesion classifiers.",
            options=DEMO_OPTIONS,
            split_fractions=(0.8, 0.2, 0.0),
        ),
        CohortSpec(
            name="vae-train",
            n=120,
            seed=0,
            description="The PoE VAE's cohort: half calcifications (faint on MR), half oedema (faint on CT); "
            "same anatomy, sites and acquisition as the demo cohort.",
            complementary={"faint": 0.15, "mr_lesion": "oedema"},
        ),
        CohortSpec(
            name="translator-train",
            n=60,
            seed=100,
            description="The CycleGAN's unpaired cohort: even subjects CT only, odd subjects MR only "
            "(disjoint people).",
            paired=False,
        ),
    )
}


def list_cohort_specs() -> list[str]:
    """Names of every defined cohort spec."""
    return list(_SPECS)


def get_cohort_spec(name: str) -> CohortSpec:
    """The cohort spec called ``name``.

    Raises:
        UnknownCohortError: no such spec (the message lists the defined ones).
    """
    try:
        return _SPECS[name]
    except KeyError:
        raise UnknownCohortError(f"no cohort spec {name!r}; defined: {', '.join(_SPECS)}") from None
