"""Latent codes of every slice from any subset of modalities."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from fusion_core.inference.inputs import check_volumes, network_tensors, require_task, run_batched
from fusion_core.inference.loading import as_loaded
from fusion_core.inference.registry import ModelInputError
from fusion_core.volume import Volume


def encode(model, volumes: Mapping[str, Volume], *, batch_size: int = 64, variance: bool = False):
    """Posterior means (and optionally variances) of every slice from the given modalities.

    Args:
        model: a VAE, or a classifier with the "poe" strategy (its PoE latent).
        volumes: {"CT": ct, "MR-T1": t1} on one grid; one alone gives that modality's posterior
            (with the prior expert); ``{}`` is refused.
        variance: also return the posterior variance.
        batch_size: slices per forward pass.

    Returns:
        (n_slices, latent_dim) float32 means, or (means, variances) with ``variance=True``.
    """
    model = as_loaded(model)
    require_task(model, ("vae", "classifier"), "encode")
    if model.task == "classifier" and model.config.strategy != "poe":
        raise ModelInputError(f"encode needs a VAE or the 'poe' classifier, not strategy {model.config.strategy!r}")
    x = network_tensors(model, check_volumes(model, volumes))
    if model.task == "vae":  # the posterior alone: no decoding
        parts = run_batched(lambda b: tuple(t.float().flatten(1) for t in model.network.posterior(b)), x, batch_size)
    else:
        parts = run_batched(lambda b: _posterior(model.network(b)), x, batch_size)
    mu = torch.cat([p[0] for p in parts]).cpu().numpy()
    if not variance:
        return mu
    return mu, np.exp(torch.cat([p[1] for p in parts]).cpu().numpy())


def _posterior(output) -> tuple[torch.Tensor, torch.Tensor]:
    return output.mu.float().flatten(1), output.logvar.float().flatten(1)
