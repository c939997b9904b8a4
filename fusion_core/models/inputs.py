"""Turn a dict of modality tensors (any subset) into a full stack plus a presence mask."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch


def batch_size_of(inputs: Mapping[str, torch.Tensor], mask: torch.Tensor | None, batch_size: int | None) -> int:
    """The batch size implied by the inputs, the mask, or the explicit argument."""
    for tensor in (*inputs.values(), mask):
        if tensor is not None:
            return int(tensor.shape[0])
    if batch_size is None:
        raise ValueError(
            "no modality given: the model needs a presence mask or a batch size to know how many samples to draw"
        )
    return batch_size


def presence_mask(
    inputs: Mapping[str, torch.Tensor],
    modalities: Sequence[str],
    *,
    mask: torch.Tensor | None = None,
    batch_size: int | None = None,
    device: torch.device | None = None,
) -> torch.Tensor:
    """(B, M) float mask: 1 where a modality is given (and ``mask`` allows it), else 0.

    Raises:
        ValueError: for a modality name the model does not know.
    """
    unknown = set(inputs) - set(modalities)
    if unknown:
        raise ValueError(f"unknown modality {sorted(unknown)}; this model takes {list(modalities)}")
    n = batch_size_of(inputs, mask, batch_size)
    given = torch.tensor([m in inputs for m in modalities], dtype=torch.float32, device=device)
    full = given.expand(n, -1)
    return full * mask.to(full) if mask is not None else full.clone()
