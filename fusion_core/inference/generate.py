"""Cross-modal generation: one ``impute`` for every generative model, and its per-voxel spread.

* ``impute(model, volumes, target)`` -> Volume on the input grid (HU for CT) for a VAE, a
  translator, a synthesis U-Net or a diffusion refiner (the mean of its default number of samples).
* ``impute_with_uncertainty(model, volumes, target, samples=K)`` -> :class:`UncertainImputation`:
  the mean and per-voxel standard deviation of K samples of a model that samples (diffusion).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import torch

from fusion_core.inference.inputs import (
    NetworkInputs,
    check_volumes,
    crop_fraction,
    from_network,
    network_tensors,
    reference_volume,
    require_task,
    run_batched,
)
from fusion_core.inference.loading import LoadedModel, as_loaded
from fusion_core.inference.registry import GENERATIVE_TASKS, ModelInputError
from fusion_core.models.unet import flip_averaged
from fusion_core.preprocess.network import unit_to_ct, unit_to_mr
from fusion_core.volume import Volume

Progress = Callable[[float], None] | None
SAMPLING_TASKS = ("diffusion",)
"""Tasks whose models only sample: ``impute`` returns the mean of their default number of samples."""
SPREAD_TASKS = ("diffusion", "vae")
"""Tasks ``impute_with_uncertainty`` can sample for a per-voxel spread; the others are deterministic."""
VAE_SAMPLES = 8  # a VAE's default number of posterior draws (its config has none)


@dataclasses.dataclass(frozen=True)
class UncertainImputation:
    """The mean and spread of several generated samples, both on the input grid.

    Attributes:
        mean: per-voxel mean of the samples (HU for CT).
        std: per-voxel standard deviation of the samples, same units (the uncertainty map).
        samples: how many samples were drawn.
    """

    mean: Volume
    std: Volume
    samples: int


def network_target(target: str) -> str:
    """Return "CT" or "MR" for a requested target ("MR-T1" and "MR" mean MR)."""
    text = str(target).strip().upper()
    if text == "CT":
        return "CT"
    if text.startswith("MR"):
        return "MR"
    raise ModelInputError(f"target must be 'CT' or 'MR', got {target!r}")


def model_outputs(model: LoadedModel) -> tuple[str, ...]:
    """What ``impute`` can produce with ``model``: its card's outputs, else its network's modalities."""
    return tuple(model.card.outputs) or tuple(getattr(model.network, "outputs", model.network.modalities))


def _checked_target(model: LoadedModel, target: str, what: str) -> str:
    require_task(model, GENERATIVE_TASKS, what)
    goal = network_target(target)
    can = model_outputs(model)
    if goal not in can:
        raise ModelInputError(f"{model.name} generates {' or '.join(can)} only, not {target!r}")
    return goal


def _grouped(model: LoadedModel, volumes: Mapping[str, Volume], goal: str) -> NetworkInputs:
    grouped = check_volumes(model, volumes)
    if model.task == "translator":
        sources = [m for m in grouped if m != goal]
        if not sources:
            raise ModelInputError(f"the translator maps one modality to the other: give the non-{goal} volume")
        grouped = {sources[0]: grouped[sources[0]]}
    return grouped


def _generator_fn(model: LoadedModel, goal: str):
    """Batch of network inputs -> (B, C, S, S) generated slices, per deterministic task."""
    net = model.runner
    if model.task == "vae":
        return lambda b: net(b).recon[goal].float()
    if model.task == "translator":
        return lambda b: net.translate(next(iter(b.values())), goal).float()
    if getattr(model.config, "flip_average", False):  # synthesis with test-time mirroring
        return lambda b: flip_averaged(net, next(iter(b.values()))).float()
    return lambda b: net(next(iter(b.values()))).float()  # synthesis: its one source input


def _to_volume(unit: torch.Tensor, model: LoadedModel, grouped: NetworkInputs, goal: str) -> Volume:
    ref = reference_volume(grouped)
    array = from_network(unit, ref, crop=crop_fraction(model))
    out = array if array.flags.owndata and array.dtype == np.float32 else None  # in place unless a tensor's view
    array = unit_to_ct(array, out=out) if goal == "CT" else unit_to_mr(array, out=out)
    return _wrap(array, ref, goal, f"{goal} generated from {'+'.join(grouped)}")


def _wrap(array: np.ndarray, ref: Volume, goal: str, name: str) -> Volume:
    return ref.with_array(array.astype(np.float32, copy=False), modality="CT" if goal == "CT" else "MR-T1", name=name)


def impute(
    model, volumes: Mapping[str, Volume], target: str, *, batch_size: int = 64, progress: Progress = None
) -> Volume:
    """Generate the ``target`` modality ("CT" or "MR") from the given one(s), on the input's grid.

    A VAE decodes the PoE latent of whatever is given (a reconstruction when ``target`` is among
    the inputs); a translator maps its single non-target input; a synthesis U-Net maps its source;
    a diffusion refiner returns the mean of its default number of samples (seed 0). CT comes back
    in HU; MR as a T1 on an arbitrary-unit 0..1000 scale (the network's within-head normalised scale).

    Args:
        model: a loaded generative model (``load_model``).
        volumes: {"CT": ct, "MR-T1": t1} on one grid, or a subset.
        target: "CT" or "MR".
        batch_size: slices per forward pass.
        progress: optional callback with the fraction of slices done (e.g. a progress bar's update).

    Raises:
        ModelInputError: not a generative model, a target it cannot produce (the message names what
            it can), a translator given only the target, inputs it does not read.
    """
    model = as_loaded(model)
    goal = _checked_target(model, target, "impute")
    if model.task in SAMPLING_TASKS:
        return impute_with_uncertainty(model, volumes, target, batch_size=batch_size, progress=progress).mean
    grouped = _grouped(model, volumes, goal)
    x = network_tensors(model, grouped)
    parts = run_batched(_generator_fn(model, goal), x, batch_size, progress)
    return _to_volume(torch.cat(parts), model, grouped, goal)


def impute_with_uncertainty(
    model,
    volumes: Mapping[str, Volume],
    target: str,
    *,
    samples: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    progress: Progress = None,
    slices: Sequence[int] | None = None,
) -> UncertainImputation:
    """The mean and per-voxel spread of ``samples`` generated volumes.

    A diffusion model's samples (default: its config's number), or a VAE's decodes of latents drawn
    from its PoE posterior (default 8; ``impute`` of a VAE decodes the posterior mean instead). Each
    sample is mapped to HU (or the MR scale) first, so mean and std are in the output's units. The
    same ``seed`` (and batch size) gives the same result. ``slices`` (axial indices) samples only
    those slices (each still sees its neighbours and the whole volume's intensity scaling) and leaves
    NaN elsewhere: a page that shows one slice pays for one slice, not the volume.

    Raises:
        ModelInputError: a deterministic model (no spread), a target it cannot produce, bad inputs.
    """
    model = as_loaded(model)
    goal = _checked_target(model, target, "impute_with_uncertainty")
    if model.task not in SPREAD_TASKS:
        raise ModelInputError(
            f"{model.name} ({model.task}) is deterministic: no spread; use a diffusion model or a VAE"
        )
    k = int(samples or getattr(model.config, "samples", VAE_SAMPLES))
    if k < 1:
        raise ModelInputError(f"samples must be at least 1, got {samples}")
    grouped = _grouped(model, volumes, goal)
    x = network_tensors(model, grouped)
    n = next(iter(x.values())).shape[0]
    chosen = None if slices is None else torch.as_tensor(np.unique(np.asarray(slices, dtype=np.int64)))
    if chosen is not None:
        if chosen.numel() == 0 or int(chosen.min()) < 0 or int(chosen.max()) >= n:
            raise ModelInputError(f"slices must lie in 0..{n - 1}, got {list(map(int, slices))}")
        x = {m: t[chosen] for m, t in x.items()}
    generator = torch.Generator(device=model.device).manual_seed(int(seed))
    net = model.runner
    if model.task == "vae":
        draw = lambda b: net.sample(b, goal, samples=k, generator=generator).float()  # noqa: E731
    else:
        draw = lambda b: net.sample(next(iter(b.values())), samples=k, generator=generator).float()  # noqa: E731
    parts = run_batched(draw, x, batch_size, progress)
    stack = torch.cat(parts, dim=1)  # (K, n or len(slices), 1, S, S)
    if chosen is not None:
        stack = _on_all_slices(stack, chosen, n)
    ref = reference_volume(grouped)
    mean, spread = mean_and_spread(_to_volume(s, model, grouped, goal).array for s in stack)
    if chosen is not None:
        skipped = np.ones(n, dtype=bool)
        skipped[chosen.numpy()] = False
        mean[skipped], spread[skipped] = np.nan, np.nan
    name = f"{goal} generated from {'+'.join(grouped)}"
    return UncertainImputation(
        mean=_wrap(mean, ref, goal, f"{name} (mean of {k} samples)"),
        std=_wrap(spread, ref, goal, f"{name} (spread of {k} samples)"),
        samples=k,
    )


def _on_all_slices(stack: torch.Tensor, chosen: torch.Tensor, n: int) -> torch.Tensor:
    """(K, len(chosen), C, S, S) samples of some slices -> (K, n, C, S, S), zeros on the other slices."""
    full = stack.new_zeros((stack.shape[0], n, *stack.shape[2:]))
    full[:, chosen] = stack
    return full


def mean_and_spread(arrays: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-voxel mean and (population) standard deviation of a stream of equal-shape arrays.

    Welford's update, one sample on the input grid at a time: memory is a few volumes whatever the
    number of samples (a 512 x 512 x 400 CT sampled 8 times held 8 volumes plus numpy's temporaries).
    The arrays are consumed: a float32 one may be overwritten (pass fresh arrays, e.g. a generator).
    """
    mean = m2 = None
    count = 0
    for array in arrays:
        count += 1
        sample = np.asarray(array, dtype=np.float32)
        if mean is None:
            mean, m2 = sample.copy(), np.zeros_like(sample)
            continue
        delta = sample - mean
        mean += delta / count
        sample -= mean  # reused as (x - new mean): no further full-size temporary
        m2 += delta * sample
    if mean is None:
        raise ValueError("no samples")
    np.maximum(m2, 0.0, out=m2)
    return mean, np.sqrt(m2 / count)
