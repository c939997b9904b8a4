"""Domain shift: re-generate demo subjects with one modality acquired by a shifted scanner, and re-score.

The shift is the phantom's own site model (``fusion_core.data.sites.ScannerSite``), applied to one
modality only: a wider point-spread function (Gaussian blur, added in quadrature to the site's own),
an intensity gain (HU calibration for CT, receiver gain for MR) and more noise. The subject is the
same person (same seed: anatomy, lesion, pose and noise streams), so at zero shift it is exactly
the subject the shipped scores were computed on.

Normalisation before the classifier, on the shifted modality only:

* ``none``: as acquired. (The networks already scale each MR weighting by its own within-head
  percentiles, so an MR gain change is absorbed by design; CT enters in fixed HU.)
* ``zscore``: z-score inside the head, then rescaled to the reference subject's within-head mean and
  sd, so the network gets its usual units back.
* ``histogram``: the whole volume's histogram matched to the reference subject's.

The reference is subject 0 of the classifiers' training cohort spec (site A): what "the training
site" looked like.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.data.phantom import make_subject
from fusion_core.data.sites import ScannerSite, get_site
from fusion_core.evaluation.errors import EvaluationError
from fusion_core.evaluation.roc import AUCResult, auc_with_ci
from fusion_core.evaluation.runner import subject_row
from fusion_core.evaluation.scores_io import ScoresTable, score_column
from fusion_core.evaluation.strategies import StrategyScores, strategy_scores
from fusion_core.preprocess import histogram_match_volume
from fusion_core.preprocess.intensity import zscore
from fusion_core.preprocess.masks import head_mask

REFERENCE_SPEC = "classifier-train"
SHIFT_MC_SAMPLES = 8  # as the shipped scores (runner default), so zero shift reproduces them


class Normalisation(StrEnum):
    """What is done to the shifted modality before the classifier sees it."""

    NONE = "none"
    ZSCORE = "zscore"
    HISTOGRAM = "histogram"


NORMALISATION_LABELS = {
    Normalisation.NONE: "None (as acquired)",
    Normalisation.ZSCORE: "Z-score in the head (to the training site's mean and sd)",
    Normalisation.HISTOGRAM: "Histogram matching to the training site",
}


@dataclasses.dataclass(frozen=True)
class ShiftSetting:
    """One domain-shift setting of one modality.

    Attributes:
        modality: "CT" or "MR" (both MR weightings).
        blur_mm: extra Gaussian PSF sigma, mm (added in quadrature to the site's own blur).
        scale: intensity gain factor (CT: HU calibration gain; MR: receiver gain).
        noise: noise standard deviation factor (1 = the site's own noise).
        normalisation: what is done to the shifted modality before the classifier.
    """

    modality: str = "CT"
    blur_mm: float = 0.0
    scale: float = 1.0
    noise: float = 1.0
    normalisation: str = Normalisation.NONE

    def __post_init__(self) -> None:
        if self.modality not in ("CT", "MR"):
            raise EvaluationError(f"shift modality must be 'CT' or 'MR', got {self.modality!r}")
        if self.blur_mm < 0 or self.scale <= 0 or self.noise < 0:
            raise EvaluationError(f"blur must be >= 0, scale > 0 and noise >= 0; got {self}")
        try:
            object.__setattr__(self, "normalisation", Normalisation(self.normalisation))
        except ValueError:
            choices = ", ".join(n.value for n in Normalisation)
            raise EvaluationError(f"normalisation {self.normalisation!r}: choose one of {choices}") from None

    @property
    def is_identity(self) -> bool:
        """True when the setting changes nothing (no blur, unit scale, unit noise)."""
        return self.blur_mm == 0 and self.scale == 1 and self.noise == 1


def shifted_site(site: ScannerSite, setting: ShiftSetting) -> ScannerSite:
    """``site`` with ``setting``'s modality blurred, rescaled and noisier; the other modality unchanged."""
    if setting.modality == "CT":
        return dataclasses.replace(
            site,
            ct_blur_mm=math.hypot(site.ct_blur_mm, setting.blur_mm),
            ct_hu_scale=site.ct_hu_scale * setting.scale,
            ct_noise_hu=site.ct_noise_hu * setting.noise,
        )
    return dataclasses.replace(
        site,
        mr_blur_mm=math.hypot(site.mr_blur_mm, setting.blur_mm),
        mr_scale=site.mr_scale * setting.scale,
        mr_noise=site.mr_noise * setting.noise,
    )


def shifted_subject(spec, index: int, setting: ShiftSetting):
    """Member ``index`` of ``spec`` with ``setting`` applied to its site (the same person).

    Raises:
        EvaluationError: a spec built from interleaved halves (complementary) is not supported.
    """
    if spec.complementary or not spec.paired:
        raise EvaluationError(f"cohort spec {spec.name!r}: domain shift needs a plain paired spec")
    if not 0 <= index < spec.n:
        raise EvaluationError(f"cohort {spec.name!r} has subjects 0..{spec.n - 1}, not {index}")
    site = shifted_site(get_site(spec.site(index)), setting)
    seed = np.random.SeedSequence(int(spec.seed), spawn_key=(index,))
    return make_subject(seed, site=site, subject_id=f"phantom-{index:03d}", **spec.phantom_options)


@functools.lru_cache(maxsize=1)
def reference_volumes() -> dict[str, Any]:
    """The training site's look: subject 0 of :data:`REFERENCE_SPEC`, aligned, keyed "CT", "MR-T1", "MR-T2"."""
    case = get_cohort_spec(REFERENCE_SPEC).subject(0).to_case().aligned()
    return {"CT": case.ct, **case.mr_weightings}


def normalise_to_reference(volume, reference, method: str):
    """One volume normalised to the reference's intensity distribution (see the module docstring)."""
    method = Normalisation(method)
    if method is Normalisation.NONE:
        return volume
    if method is Normalisation.HISTOGRAM:
        return histogram_match_volume(volume, reference).volume
    z, _ = zscore(volume.array, head_mask(volume))
    ref = reference.array[head_mask(reference)]
    return volume.with_array((z * ref.std() + ref.mean()).astype(np.float32))


def shifted_volumes(spec, index: int, setting: ShiftSetting) -> tuple[dict[str, Any], Any]:
    """(aligned volumes {"CT", "MR-T1", "MR-T2"} with the shift and normalisation applied, the subject)."""
    subject = shifted_subject(spec, index, setting)
    case = subject.to_case().aligned()
    volumes = {"CT": case.ct, **case.mr_weightings}
    reference = reference_volumes() if setting.normalisation is not Normalisation.NONE else {}
    for name in [m for m in volumes if m.startswith(setting.modality)]:
        if setting.normalisation is not Normalisation.NONE:
            volumes[name] = normalise_to_reference(volumes[name], reference[name], setting.normalisation)
    return volumes, subject


def score_shift(
    models: dict[str, Any],
    spec,
    indices: Sequence[int],
    setting: ShiftSetting,
    *,
    mc_samples: int = SHIFT_MC_SAMPLES,
    split: str = "test",
    progress: Callable[[int, int], None] | None = None,
    unshifted: StrategyScores | None = None,
    only_candidates: bool = False,
) -> StrategyScores:
    """Score every model on its complete input for the shifted subjects.

    Args:
        models: name -> LoadedModel (``load_model``).
        spec: the cohort spec (``get_cohort_spec("demo")``).
        indices: members of ``spec`` to score.
        setting: the shift.
        mc_samples: MC-dropout passes per subject.
        split: the split the rows are labelled with ("val" for validation subjects).
        progress: called with (subjects done, total) after each subject.
        unshifted: scores of the same subjects as acquired (e.g. the shipped scores). A model that
            reads none of the shifted modality sees exactly those scans again (same person, same
            noise streams), so its rows are taken from here instead of being re-scored.
        only_candidates: run the networks on the candidate (brain) slices only, about twice as fast.
            The MC-dropout draws then differ from the whole-volume run the shipped scores come from,
            which moves a subject's score by up to a few hundredths: off by default, so that a zero
            shift reproduces the shipped scores exactly.

    Returns:
        Tidy scores of ``split``, one row per model and subject.
    """
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.inference import classify

    reused = _reusable(models, setting, unshifted)
    rescored = {name: model for name, model in models.items() if name not in reused}
    rows: dict[str, list[dict]] = {name: [] for name in rescored}
    ids = []
    for done, index in enumerate(indices, start=1):
        volumes, subject = shifted_volumes(spec, index, setting) if rescored else (None, None)
        ids.append(spec.subject_ids()[index])
        for name, model in rescored.items():  # a model reads what it needs of CT, MR-T1, MR-T2
            p = classify(model, volumes, mc_samples=mc_samples, only_candidates=only_candidates).probability
            rows[name].append(subject_row(subject, spec.name, split) | {score_column(complete_inputs(model)): p})
        if progress is not None:
            progress(done, len(indices))
    tables = [ScoresTable(pd.DataFrame(r), name=n) for n, r in rows.items()]
    frames = [strategy_scores(tables, split=split).frame] if tables else []
    if reused:
        frames.append(unshifted.select(reused).for_subjects(ids).frame.assign(split=split))
    return StrategyScores(pd.concat([f for f in frames if len(f)], ignore_index=True))


def _reusable(models: dict[str, Any], setting: ShiftSetting, unshifted: StrategyScores | None) -> list[str]:
    """Models whose unshifted scores are given and that read none of the shifted modality."""
    return [] if unshifted is None else blind_to_shift(unshifted, models, setting.modality)


def blind_to_shift(scores: StrategyScores, strategies, modality: str) -> list[str]:
    """The ``strategies`` in ``scores`` whose complete input holds none of ``modality`` ("CT" or "MR").

    A shift of that modality leaves their scans, and so their scores, unchanged.
    """
    have = set(scores.strategies)
    return [s for s in strategies if s in have and modality not in scores.complete_inputs(s).split("+")]


def complete_inputs(model) -> tuple[str, ...]:
    """The volumes a model reads with every input present, e.g. ("CT", "MR-T1", "MR-T2") or ("MR-T1", "MR-T2")."""
    # lazy: imports torch; this module's import stays torch-free
    from fusion_core.inference.inputs import mr_weightings

    strategy = model.config.strategy
    return (("CT",) if strategy != "mr" else ()) + (mr_weightings(model) if strategy != "ct" else ())


def balanced_indices(spec, labels: dict[str, int], n: int, *, seed: int = 0) -> list[int]:
    """``n`` members of ``spec`` (half with a lesion, half without, as far as there are), sorted.

    Args:
        spec: the cohort spec.
        labels: subject id -> label (e.g. from the shipped scores), so no subject is built to learn it.
        n: how many members to pick.
        seed: seed of the random pick within each class.
    """
    ids = spec.subject_ids()
    rng = np.random.default_rng(seed)
    picked: list[int] = []
    for value, count in ((1, n // 2), (0, n - n // 2)):
        members = [i for i, sid in enumerate(ids) if labels.get(sid) == value]
        picked += rng.permutation(members)[:count].tolist()
    return sorted(int(i) for i in picked)


@dataclasses.dataclass(frozen=True)
class ShiftAUC:
    """One strategy on one set of (possibly shifted) subjects: its AUC and its mean probability per class.

    A shift can leave the ranking (AUC) intact and still move every probability, so that a fixed
    threshold no longer fits: the mean probabilities show that.

    Attributes:
        strategy: model name.
        auc: AUC with its 95 % interval (``auc.n_pos + auc.n_neg`` subjects).
        mean_p_lesion, mean_p_no_lesion: mean probability of the subjects with and without a lesion.
    """

    strategy: str
    auc: AUCResult
    mean_p_lesion: float
    mean_p_no_lesion: float


def shift_aucs(scores: StrategyScores, *, n_boot: int = 1000, seed: int = 0) -> list[ShiftAUC]:
    """:class:`ShiftAUC` of every strategy in ``scores``, in display order."""
    out = []
    for s in scores.strategies:
        labels, values = scores.scores(s)
        auc = auc_with_ci(labels, values, n_boot=n_boot, seed=seed)
        out.append(ShiftAUC(s, auc, float(values[labels == 1].mean()), float(values[labels == 0].mean())))
    return out
