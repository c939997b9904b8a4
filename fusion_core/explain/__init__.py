"""fusion_core.explain: what the models look at and how sure they are, on the image grid.

Lesion-map heads and cross-modal attention (per head, per layer, rollout); Grad-CAM, Integrated
Gradients and whole-modality ablation of the lesion classifiers (captum, on a private copy of the
network); agreement of a map with the lesion (in-lesion fraction, pointing game, random baseline);
uncertainty maps (MC dropout, predicted variance, fusion weights, VAE posterior variance).
"""

from fusion_core.explain.agreement import Agreement, agreement, agreement_table, in_lesion_fraction, pointing_game
from fusion_core.explain.attribution import METHOD_LABELS, Method, attribution_map, modality_importance
from fusion_core.explain.maps import attention_maps, attention_on_grid, lesion_maps
from fusion_core.explain.rollout import (
    MEAN_OF_HEADS,
    attention_layers,
    attention_received,
    attention_rollout,
    attention_view,
)
from fusion_core.explain.uncertainty import (
    EvidenceUncertainty,
    PosteriorVariance,
    active_channels,
    evidence_uncertainty,
    fusion_weights,
    has_spatial_latent,
    posterior_variance,
    posterior_variance_map,
)

__all__ = [
    "MEAN_OF_HEADS",
    "METHOD_LABELS",
    "Agreement",
    "EvidenceUncertainty",
    "Method",
    "PosteriorVariance",
    "active_channels",
    "agreement",
    "agreement_table",
    "attention_layers",
    "attention_maps",
    "attention_on_grid",
    "attention_received",
    "attention_rollout",
    "attention_view",
    "attribution_map",
    "evidence_uncertainty",
    "fusion_weights",
    "has_spatial_latent",
    "in_lesion_fraction",
    "lesion_maps",
    "modality_importance",
    "pointing_game",
    "posterior_variance",
    "posterior_variance_map",
]
