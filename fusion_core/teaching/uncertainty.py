"""Demo 8, uncertainty-weighted fusion: add noise to one modality and watch its weight fall.

The uncertainty-late classifier has one head per modality, each giving a logit and its variance
(aleatoric, plus epistemic from Monte-Carlo dropout). It fuses them with precision weights

    w_i = (1 / sigma_i^2) / sum_j (1 / sigma_j^2),

so a modality whose head becomes unsure (here: its input buried in noise) counts for less.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from fusion_core.inference import to_network
from fusion_core.models.classifiers import precision_weights
from fusion_core.volume import Volume

NOISE_LEVELS = (
    0.0,
    0.25,
    0.5,
    0.75,
    1.0,
    1.5,
    2.0,
    3.0,
)  # standard deviation added to the network input (scaled to [-1, 1])


@dataclass(frozen=True)
class WeightCurve:
    """Precision weights of each branch as one modality gets noisier.

    Attributes:
        noisy: the modality the noise was added to ("CT" or "MR").
        noise_levels: (k,) noise standard deviations, in network-input units (the input spans [-1, 1]).
        weights: branch ("CT", "MR") -> (k,) mean weight over the slices used.
        missing_weights: branch -> mean weight with the noisy modality left out altogether.
        examples: (k, h, w) the middle slice of the noisy modality's network input at each level.
    """

    noisy: str
    noise_levels: np.ndarray
    weights: dict[str, np.ndarray]
    missing_weights: dict[str, float]
    examples: np.ndarray


def noise_weight_curve(
    model,
    volumes: Mapping[str, Volume],
    *,
    noisy: str = "MR",
    noise_levels: Sequence[float] = NOISE_LEVELS,
    n_slices: int = 16,
    mc_samples: int = 8,
    seed: int = 0,
) -> WeightCurve:
    """Run the uncertainty-late model on the central slices with more and more noise on one modality.

    Args:
        model: the shipped ``clf-uncertainty-late`` (or any classifier with per-modality branches).
        volumes: the subject's scans on one grid, e.g. {"CT": ct, "MR-T1": t1, "MR-T2": t2}.
        noisy: network modality to add noise to, "CT" or "MR".
        noise_levels: standard deviations of the Gaussian noise added to its network input.
        n_slices: central slices used (the weights are averaged over them).
        mc_samples: Monte-Carlo dropout samples per slice (the model's epistemic variance).
        seed: seeds the noise and the dropout masks (the global torch RNG is restored afterwards).

    Returns:
        The weights per level, with the modality missing, and example noisy inputs.
    """
    x = _central(to_network(model, volumes), n_slices)
    levels = np.asarray(noise_levels, dtype=float)
    with torch.random.fork_rng(devices=[]), torch.inference_mode():
        torch.manual_seed(seed)
        noise = torch.randn(x[noisy].shape)
        batches = [{**x, noisy: x[noisy] + float(s) * noise} for s in levels]
        stacked = {k: torch.cat([b[k] for b in batches]) for k in x}
        out = model.network(stacked, mc_samples=mc_samples)
        weights = precision_weights(out.branches, out.branch_mask).reshape(len(levels), -1, len(out.branches))
        missing = model.network({k: v for k, v in x.items() if k != noisy}, mc_samples=mc_samples)
        missing_w = precision_weights(missing.branches, missing.branch_mask).mean(0)
    names = list(out.branches)
    middle = x[noisy].shape[0] // 2
    return WeightCurve(
        noisy=noisy,
        noise_levels=levels,
        weights={name: weights[:, :, i].mean(1).numpy() for i, name in enumerate(names)},
        missing_weights={name: float(missing_w[i]) for i, name in enumerate(names)},
        examples=np.stack([b[noisy][middle, 0].numpy() for b in batches]),
    )


def _central(x: dict[str, torch.Tensor], n: int) -> dict[str, torch.Tensor]:
    total = next(iter(x.values())).shape[0]
    start = max(0, total // 2 - n // 2)
    return {k: v[start : start + n] for k, v in x.items()}
