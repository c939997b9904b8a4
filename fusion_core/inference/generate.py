"""Cross-modal generation: one ``impute`` for every generative model."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from fusion_core.inference.inputs import (
    check_volumes,
    from_network,
    network_tensors,
    reference_volume,
    require_task,
    run_batched,
)
from fusion_core.inference.loading import as_loaded
from fusion_core.inference.registry import GENERATIVE_TASKS, ModelInputError
from fusion_core.preprocess.network import unit_to_ct, unit_to_mr
from fusion_core.volume import Volume


def network_target(target: str) -> str:
    """ "CT" or "MR" for a requested target ("MR-T1" and "MR" mean MR)."""
    text = str(target).strip().upper()
    if text == "CT":
        return "CT"
    if text.startswith("MR"):
        return "MR"
    raise ModelInputError(f"target must be 'CT' or 'MR', got {target!r}")


def impute(model, volumes: Mapping[str, Volume], target: str, *, batch_size: int = 64) -> Volume:
    """Generate the ``target`` modality ("CT" or "MR") from the given one(s), on the input's grid.

    A VAE decodes the PoE latent of whatever is given (a reconstruction when ``target`` is among
    the inputs); a translator maps its single non-target input. CT comes back in HU; MR as a T1
    on an arbitrary-unit 0..1000 scale (the network's within-head normalised scale).

    Raises:
        ModelInputError: not a generative model, unknown target, a translator given only the target.
    """
    model = as_loaded(model)
    require_task(model, GENERATIVE_TASKS, "impute")
    goal = network_target(target)
    if goal not in model.network.modalities:
        raise ModelInputError(f"target must be one of {list(model.network.modalities)}, got {target!r}")
    grouped = check_volumes(model, volumes)
    if model.task == "translator":
        sources = [m for m in grouped if m != goal]
        if not sources:
            raise ModelInputError(f"the translator maps one modality to the other: give the non-{goal} volume")
        grouped = {sources[0]: grouped[sources[0]]}
    x = network_tensors(model, grouped)
    if model.task == "vae":
        parts = run_batched(lambda b: model.network(b).recon[goal].float(), x, batch_size)
    else:
        parts = run_batched(lambda b: model.network.translate(next(iter(b.values())), goal).float(), x, batch_size)
    ref = reference_volume(grouped)
    unit = from_network(torch.cat(parts), ref)
    array = unit_to_ct(unit) if goal == "CT" else unit_to_mr(unit)
    return ref.with_array(
        array, modality="CT" if goal == "CT" else "MR-T1", name=f"{goal} generated from {'+'.join(grouped)}"
    )
