"""One optimisation step and one validation pass per task; the loop in ``loop.py`` stays task-agnostic."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from fusion_core.constants import BONE_HU
from fusion_core.losses import (
    VAELossWeights,
    classifier_terms,
    discriminator_loss,
    flow_matching_terms,
    generator_cycle_terms,
    paired_translation_loss,
    reconstruction_loss,
    synthesis_terms,
    unit_to_hu,
    vae_terms,
    weighted_total,
)
from fusion_core.models.config import MODALITIES, Task
from fusion_core.preprocess.network import ct_to_unit
from fusion_core.training.distributed import average_gradients


def images(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The image tensors of ``batch`` (one per modality)."""
    return {m: batch[m] for m in MODALITIES}


BONE_UNIT = float(ct_to_unit(np.array([BONE_HU]))[0])  # bone threshold on the network's CT scale


def vae_pixel_weight(batch: dict[str, torch.Tensor], head_weight: float, bone_weight: float = 1.0) -> torch.Tensor:
    """(B, 1, S, S) reconstruction weights.

    ``head_weight`` inside the head, 1 outside, times ``bone_weight`` where the true CT (centre channel)
    is bone.
    """
    weight = 1.0 + batch["head"] * (head_weight - 1.0)
    if bone_weight != 1.0:
        ct = batch["CT"][:, batch["CT"].shape[1] // 2 : batch["CT"].shape[1] // 2 + 1]
        weight = weight * (1.0 + (ct > BONE_UNIT).to(weight) * (bone_weight - 1.0))
    return weight


def corrupt_modalities(batch: dict[str, torch.Tensor], prob: float) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Replace one random modality of a ``prob`` fraction of samples by Gaussian noise (presence mask kept).

    Returns:
        (images, (B, M) float mask of which modality of which sample was replaced).
    """
    x = {m: v.clone() for m, v in images(batch).items()}
    n = x["CT"].shape[0]
    corrupted = torch.zeros(n, len(MODALITIES), device=x["CT"].device)
    if prob <= 0:
        return x, corrupted
    hit = torch.rand(n, device=x["CT"].device) < prob
    which = torch.randint(len(MODALITIES), (n,), device=x["CT"].device)
    for i, m in enumerate(MODALITIES):
        rows = hit & (which == i)
        x[m][rows] = torch.randn_like(x[m][rows]).clamp(-1, 1)
        corrupted[:, i] = rows.float()
    return x, corrupted


def random_flip(batch: dict[str, torch.Tensor], prob: float) -> dict[str, torch.Tensor]:
    """Flip a ``prob`` fraction of samples left-right (every image key together; labels unchanged)."""
    if prob <= 0:
        return batch
    rows = (torch.rand(batch["CT"].shape[0], device=batch["CT"].device) < prob).view(-1, 1, 1, 1)
    return {k: torch.where(rows, v.flip(-1), v) if v.ndim == 4 else v for k, v in batch.items()}


def random_patch(batch: dict[str, torch.Tensor], size: int) -> dict[str, torch.Tensor]:
    """One random ``size`` x ``size`` square of every image key of the batch (same place for all; 0 = no-op)."""
    full = batch["CT"].shape[-1]
    if size <= 0 or size >= full:
        return batch
    y, x = (int(v) for v in torch.randint(full - size + 1, (2,)))
    return {k: v[..., y : y + size, x : x + size] if v.ndim == 4 else v for k, v in batch.items()}


def loss_weight_map(weights: Any) -> dict[str, float]:
    """The numeric fields of a loss-weights dataclass, as floats."""
    return {k: float(v) for k, v in vars(weights).items() if isinstance(v, int | float)}


def supervised_loss(model, batch, task: Task, weights, *, critic=None, noise_prob: float = 0.0, flip_prob: float = 0.0):
    """Total loss and its terms for the VAE or a classifier (one forward through ``model``)."""
    batch = random_flip(batch, flip_prob)
    if task in PAIRED_STEPS:
        return PAIRED_STEPS[task](model, batch, weights)
    if task == Task.VAE:
        # modality dropout inside the model hides CT or MR in part of the rows -> cross-modal term
        out = model(images(batch), batch["has"])
        pw = vae_pixel_weight(batch, weights.head_weight, weights.bone_weight)
        terms = vae_terms(out, images(batch), weights=weights, pixel_weight=pw, critic=critic)
    else:
        x, corrupted = corrupt_modalities(batch, noise_prob)
        out = model(x, batch["has"])
        terms = classifier_terms(
            out, batch["label"], weights, corrupted=corrupted, modalities=MODALITIES, lesion=batch.get("lesion")
        )
    return weighted_total(terms, loss_weight_map(weights)), terms, out


def paired_io(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(source input (B, C, S, S), target centre slice (B, 1, S, S), target modality) of a paired generator."""
    config = getattr(model, "module", model).config
    config = getattr(config, "synthesis", config)
    target = batch[config.target]
    centre = target.shape[1] // 2
    return batch[config.source], target[:, centre : centre + 1], config.target


def synthesis_loss(model, batch, weights):
    """Masked L1 of the synthesis U-Net (in HU with bone weighted for a CT target)."""
    source, target, modality = paired_io(model, batch)
    pred = model(source)
    terms = synthesis_terms(pred.float(), target, batch["head"], modality, weights)
    return weighted_total(terms, loss_weight_map(weights)), terms, pred


def diffusion_loss(model, batch, weights, *, generator: torch.Generator | None = None):
    """Flow-matching loss of the refiner on the residual of its frozen U-Net (rectified flow, t ~ U[0, 1])."""
    net = getattr(model, "module", model)
    source, target, _ = paired_io(model, batch)
    with torch.no_grad():
        base = net.base(source).float()
    data = (target - base) / net.config.residual_scale
    noise = torch.randn(data.shape, generator=generator, device=data.device)
    t = torch.rand(data.shape[0], generator=generator, device=data.device)
    x_t = (1 - t.view(-1, 1, 1, 1)) * noise + t.view(-1, 1, 1, 1) * data
    velocity = model(x_t, t, source, base)
    terms = flow_matching_terms(velocity.float(), noise, data, batch["head"], weights)
    return weighted_total(terms, loss_weight_map(weights)), terms, velocity


PAIRED_STEPS = {Task.SYNTHESIS: synthesis_loss, Task.DIFFUSION: diffusion_loss}


def critic_step(critic, optimiser, real: torch.Tensor, fake: torch.Tensor) -> float:
    """One PatchGAN critic update on real vs detached fake images."""
    optimiser.zero_grad(set_to_none=True)
    loss = discriminator_loss(critic, real, fake)
    loss.backward()
    average_gradients(critic)
    optimiser.step()
    return float(loss.detach())


def cycle_step(model, batch, weights, opt_g, opt_d) -> dict[str, float]:
    """One CycleGAN update: generators (adversarial + cycle + identity), then both critics."""
    has = batch["has"].bool()
    ct, mr = batch["CT"][has[:, 0]], batch["MR"][has[:, 1]]
    if len(ct) == 0 or len(mr) == 0:
        return {}
    opt_g.zero_grad(set_to_none=True)
    out = model(ct, mr)
    terms = generator_cycle_terms(out, ct, mr, model, weights)
    paired = paired_translation_loss(out, batch, has) if weights.paired else None
    if paired is not None:
        terms["paired"] = paired
    weighted_total(terms, loss_weight_map(weights)).backward()
    average_gradients(model.ct_to_mr)
    average_gradients(model.mr_to_ct)
    opt_g.step()
    d = critic_step(model.disc_ct, opt_d["CT"], ct, out.fake_ct) + critic_step(
        model.disc_mr, opt_d["MR"], mr, out.fake_mr
    )
    return {k: float(v.detach()) for k, v in terms.items()} | {"critic": d}


def slice_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC, NaN when only one class is present."""
    # lazy: scikit-learn takes ~1.5 s to import
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if len(np.unique(labels)) == 2 else float("nan")


@torch.inference_mode()
def validate(model, loader: Iterable, task: Task, weights, device: torch.device) -> dict[str, float]:
    """Validation metrics; the first key is the one early stopping watches (see ``MONITOR``)."""
    model.eval()
    fn = {Task.CLASSIFIER: _validate_classifier, Task.VAE: _validate_vae, Task.TRANSLATOR: _validate_cycle}.get(task)
    fn = fn or {Task.SYNTHESIS: _validate_synthesis, Task.DIFFUSION: _validate_diffusion}[task]
    return fn(model, [{k: v.to(device) for k, v in b.items()} for b in loader], weights)


def _validate_classifier(model, batches, weights) -> dict[str, float]:
    logits, labels, losses = [], [], []
    for b in batches:
        out = model(images(b), b["has"])
        logits.append(out.logit.float().cpu())
        labels.append(b["label"].cpu())
        losses.append(
            torch.nn.functional.binary_cross_entropy_with_logits(out.logit.float(), b["label"], reduction="sum")
        )
    y, s = torch.cat(labels).numpy(), torch.cat(logits).numpy()
    return {"val_auc": slice_auc(y, s), "val_bce": float(sum(losses) / max(len(y), 1))}


def _validate_vae(model, batches, weights: VAELossWeights) -> dict[str, float]:
    sums = {"val_mr_to_ct_l1": 0.0, "val_joint_l1": 0.0, "val_ct_to_mr_l1": 0.0}
    n = 0
    for b in batches:
        head = b["head"]
        joint = model(images(b)).recon
        from_mr = model({"MR": b["MR"]}).recon["CT"]
        from_ct = model({"CT": b["CT"]}).recon["MR"]
        k = b["CT"].shape[0]
        sums["val_mr_to_ct_l1"] += k * float(reconstruction_loss(from_mr.float(), b["CT"], weight=head))
        sums["val_ct_to_mr_l1"] += k * float(reconstruction_loss(from_ct.float(), b["MR"], weight=head))
        sums["val_joint_l1"] += k * float(reconstruction_loss(joint["CT"].float(), b["CT"], weight=head))
        n += k
    return {key: v / max(n, 1) for key, v in sums.items()}


def _validate_cycle(model, batches, weights) -> dict[str, float]:
    total, n = 0.0, 0
    for b in batches:
        has = b["has"].bool()
        ct, mr = b["CT"][has[:, 0]], b["MR"][has[:, 1]]
        if len(ct):
            total += float((model.mr_to_ct(model.ct_to_mr(ct)) - ct).abs().sum() / ct[0].numel())
            n += len(ct)
        if len(mr):
            total += float((model.ct_to_mr(model.mr_to_ct(mr)) - mr).abs().sum() / mr[0].numel())
            n += len(mr)
    return {"val_cycle_l1": total / max(n, 1)}


def _validate_synthesis(model, batches, weights) -> dict[str, float]:
    """val_mae: mean absolute error inside the head (HU for a CT target, network units for MR)."""
    total, voxels = 0.0, 0.0
    for b in batches:
        source, target, modality = paired_io(model, b)
        pred = model(source).float()
        if modality == "CT":
            pred, target = unit_to_hu(pred.clamp(-1, 1)), unit_to_hu(target)
        total += float(((pred - target).abs() * b["head"]).sum())
        voxels += float(b["head"].sum())
    return {"val_mae": total / max(voxels, 1.0)}


def _validate_diffusion(model, batches, weights) -> dict[str, float]:
    """val_flow: the flow-matching loss with fixed noise and times (comparable across epochs)."""
    generator = torch.Generator(device=batches[0]["head"].device if batches else "cpu").manual_seed(0)
    total, n = 0.0, 0
    for b in batches:
        k = b["head"].shape[0]
        total += k * float(diffusion_loss(model, b, weights, generator=generator)[0])
        n += k
    return {"val_flow": total / max(n, 1)}


MONITOR: dict[Task, tuple[str, str]] = {
    Task.CLASSIFIER: ("val_auc", "max"),
    Task.VAE: ("val_mr_to_ct_l1", "min"),
    Task.TRANSLATOR: ("val_cycle_l1", "min"),
    Task.SYNTHESIS: ("val_mae", "min"),
    Task.DIFFUSION: ("val_flow", "min"),
}
