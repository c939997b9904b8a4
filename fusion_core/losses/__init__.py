"""Losses, kept apart from the models.

Reconstruction, KL, InfoNCE, adversarial, cycle, identity, structure (edge alignment), lesion maps,
masked L1 in HU and flow matching (paired generators).

``terms`` holds pure tensor functions; ``objectives`` assembles them per model with weight
dataclasses whose zero weights switch a term off (ablations).
"""

from fusion_core.losses.objectives import (
    ClassifierLossWeights,
    CycleLossWeights,
    VAELossWeights,
    classifier_terms,
    discriminator_loss,
    generator_cycle_terms,
    paired_translation_loss,
    vae_terms,
    weighted_total,
)
from fusion_core.losses.synthesis import (
    DiffusionLossWeights,
    SynthesisLossWeights,
    flow_matching_terms,
    synthesis_terms,
    unit_to_hu,
)
from fusion_core.losses.terms import (
    adversarial_loss,
    cycle_loss,
    heteroscedastic_bce,
    identity_loss,
    info_nce,
    kl_divergence,
    reconstruction_loss,
    structure_loss,
)

__all__ = [
    "ClassifierLossWeights",
    "CycleLossWeights",
    "DiffusionLossWeights",
    "SynthesisLossWeights",
    "VAELossWeights",
    "adversarial_loss",
    "classifier_terms",
    "cycle_loss",
    "discriminator_loss",
    "flow_matching_terms",
    "generator_cycle_terms",
    "heteroscedastic_bce",
    "identity_loss",
    "info_nce",
    "kl_divergence",
    "paired_translation_loss",
    "reconstruction_loss",
    "structure_loss",
    "synthesis_terms",
    "unit_to_hu",
    "vae_terms",
    "weighted_total",
]
