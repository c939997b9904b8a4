"""Latent codes of every slice from any subset of modalities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from fusion_core.inference.inputs import check_volumes, network_tensors, require_task, run_batched
from fusion_core.inference.loading import as_loaded
from fusion_core.inference.registry import ModelInputError
from fusion_core.models.poe import product_of_experts
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
        parts = run_batched(lambda b: tuple(t.float().flatten(1) for t in model.runner.posterior(b)), x, batch_size)
    else:
        parts = run_batched(lambda b: _posterior(model.network(b)), x, batch_size)
    mu = torch.cat([p[0] for p in parts]).cpu().numpy()
    if not variance:
        return mu
    return mu, np.exp(torch.cat([p[1] for p in parts]).cpu().numpy())


def _posterior(output) -> tuple[torch.Tensor, torch.Tensor]:
    return output.mu.float().flatten(1), output.logvar.float().flatten(1)


def encode_subsets(
    model, volumes: Mapping[str, Volume], subsets: Sequence[Sequence[str]], *, batch_size: int = 64
) -> list[np.ndarray]:
    """A VAE's posterior means for several subsets of the given scans, each modality's expert computed once.

    The PoE posterior of a subset is the product of that subset's experts (and the prior), and an
    expert depends only on its own modality: so the CT-alone, MR-alone and joint posteriors of a
    volume need one pass of each encoder, not four. Each result equals :func:`encode` of that subset.

    Args:
        model: a VAE.
        volumes: every scan any subset uses, on one grid.
        subsets: network modality names per posterior, e.g. ``[("CT",), ("MR",), ("CT", "MR")]``.
        batch_size: slices per forward pass.

    Returns:
        One (n_slices, latent_dim) float32 array per subset.

    Raises:
        ModelInputError: not a VAE, or a subset naming a modality that is not given.
    """
    model = as_loaded(model)
    require_task(model, ("vae",), "encode_subsets")
    x = network_tensors(model, check_volumes(model, volumes))
    missing = sorted({m for subset in subsets for m in subset} - set(x))
    if missing:
        raise ModelInputError(f"encode_subsets: no {' or '.join(missing)} scan given")
    net = model.runner
    columns = [torch.tensor([m in subset for m in net.modalities]) for subset in subsets]

    def posteriors(batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        mu, logvar = net.encode_experts(batch, next(iter(batch.values())).shape[0])
        return [product_of_experts(mu, logvar, c.to(mu).expand(len(mu), -1))[0].float().flatten(1) for c in columns]

    parts = run_batched(posteriors, x, batch_size)
    return [torch.cat([p[i] for p in parts]).cpu().numpy() for i in range(len(subsets))]
