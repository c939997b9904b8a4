"""Subject-level lesion classification from any fusion classifier."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import torch

from fusion_core.evaluation.scoring import TOP_K, top_slices
from fusion_core.inference.inputs import check_volumes, network_tensors, reference_volume, require_task, run_batched
from fusion_core.inference.loading import LoadedModel, as_loaded
from fusion_core.inference.registry import ModelInputError
from fusion_core.preprocess.brain import brain_slices
from fusion_core.volume import Volume


@dataclasses.dataclass(frozen=True)
class ClassificationResult:
    """Lesion-presence prediction for one subject.

    Attributes:
        probability: subject-level probability in [0, 1]: mean of the ``top_k`` highest slice probabilities.
        uncertainty: standard deviation of that probability (delta method on the slices' logit
            variance: MC-dropout epistemic + predicted aleatoric), in probability units.
        slice_probabilities: (n_slices,) per-slice probability.
        slice_variance: (n_slices,) per-slice total logit variance.
        top_slices: indices of the ``top_k`` slices that make up the subject probability.
        candidate_slices: the slices the top-k was taken over: those cutting through the brain
            as the classifier's training slices did (see ``classify``).
        strategy: the model's fusion strategy.
        modalities: the model inputs that were used, e.g. ("CT", "MR-T1", "MR-T2").
        mc_samples: MC-dropout passes used.
    """

    probability: float
    uncertainty: float
    slice_probabilities: np.ndarray
    slice_variance: np.ndarray
    top_slices: np.ndarray
    candidate_slices: np.ndarray
    strategy: str
    modalities: tuple[str, ...]
    mc_samples: int


def classify(
    model,
    volumes: Mapping[str, Volume],
    *,
    mc_samples: int = 8,
    batch_size: int = 64,
    top_k: int = TOP_K,
    candidate_slices: np.ndarray | None = None,
    seed: int | None = 0,
    only_candidates: bool = False,
) -> ClassificationResult:
    """Subject-level lesion probability and its uncertainty from a fusion classifier.

    Every slice gets a probability; the subject probability is the mean of the ``top_k`` highest
    among the candidate slices. By default the candidates are the slices that cut through the
    brain the way the classifier's training slices did: estimated intracranial area at least the
    training data's ``min_brain_fraction`` of the largest (``fusion_core.preprocess.brain``, from
    the CT when given, else the MR), so neck and vertex slices the model never saw cannot decide.

    Args:
        model: a loaded classifier (``load_model``); strategies "poe", "late", "uncertainty-late"
            and "hybrid" accept a missing modality natively; the others see a missing modality as a
            zero image.
        volumes: {"CT": ct, "MR-T1": t1, "MR-T2": t2} on one grid, or a subset.
        mc_samples: MC-dropout passes of the heads (1 = deterministic, no epistemic part).
        batch_size: slices per forward pass.
        top_k: the subject probability is the mean of the ``top_k`` highest slice probabilities.
        candidate_slices: slice indices to take the top-k over, instead of the estimate.
        seed: seeds torch for the MC-dropout draws (None: not seeded), so the same input gives the same result.
        only_candidates: run the network on the candidate slices only (the other slices' probability
            and variance are NaN): all a subject score needs, about twice as fast on a whole head.
    """
    model = as_loaded(model)
    require_task(model, ("classifier",), "classify")
    grouped = check_volumes(model, volumes)
    strategy = model.config.strategy
    if strategy in ("ct", "mr") and strategy.upper() not in grouped:
        raise ModelInputError(f"the {strategy.upper()}-only classifier needs its {model.card.describe_inputs()} input")
    x = network_tensors(model, grouped)
    n_slices = len(next(iter(x.values())))
    candidates = _candidates(model, grouped, candidate_slices, n_slices)
    if only_candidates:
        x = {m: t[torch.as_tensor(candidates, device=t.device)] for m, t in x.items()}
    with torch.random.fork_rng(devices=[], enabled=seed is not None):  # seeded draws, global RNG untouched
        if seed is not None:
            torch.manual_seed(seed)
        parts = run_batched(
            lambda b: torch.stack([(o := model.network(b, mc_samples=mc_samples)).logit.float(), o.variance.float()]),
            x,
            batch_size,
        )
    logit, variance = _on_all_slices(
        torch.cat(parts, dim=1).cpu().numpy(), candidates if only_candidates else None, n_slices
    )
    probs = 1.0 / (1.0 + np.exp(-logit))
    top = top_slices(probs, candidates, top_k=top_k)
    p = float(probs[top].mean())
    sd = float(np.mean(probs[top] * (1 - probs[top]) * np.sqrt(variance[top])))
    used = tuple(name for name in model.card.inputs if _given(name, grouped))
    return ClassificationResult(p, sd, probs, variance, top, candidates, strategy, used, mc_samples)


def _on_all_slices(values: np.ndarray, computed: np.ndarray | None, n_slices: int) -> np.ndarray:
    """(2, n) logits and variances on every slice; NaN on slices that were not computed."""
    if computed is None:
        return values
    full = np.full((values.shape[0], n_slices), np.nan, dtype=values.dtype)
    full[:, computed] = values
    return full


def _given(name: str, grouped) -> bool:
    return ("CT" in grouped) if name == "CT" else ("MR" in grouped)


def _candidates(model: LoadedModel, grouped, given: np.ndarray | None, n: int) -> np.ndarray:
    """Sorted slice indices the subject score is taken over (never empty)."""
    if given is not None:
        idx = np.unique(np.asarray(given, dtype=np.int64))
        if idx.size == 0 or idx.min() < 0 or idx.max() >= n:
            raise ModelInputError(f"candidate_slices must be non-empty indices within 0..{n - 1}")
        return idx
    idx = brain_slices(reference_volume(grouped), model.card.min_brain_fraction)
    return idx if idx.size else np.arange(n)
