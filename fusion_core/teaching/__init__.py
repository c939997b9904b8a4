"""Teaching demos of why and how multimodal fusion works: small closed forms and seeded toys.

Each module is one demo of the Learn page. The closed forms exported here (detectors, bayes, poe)
import no torch and cost microseconds. The other modules are imported by name: ``xor`` (numpy
toy), ``architectures`` (shipped scores), ``misregistration``, ``normalisation`` (phantom scans),
``posterior`` and ``uncertainty`` (shipped models, torch).
"""

from fusion_core.teaching.bayes import BayesFusion, fuse_evidence, odds_to_probability, probability_to_odds
from fusion_core.teaching.detectors import (
    DetectorFusion,
    SimulatedDetectors,
    binormal_auc,
    binormal_roc,
    fuse_detectors,
    fused_dprime_correlated,
    simulate_detectors,
)
from fusion_core.teaching.poe import GaussianExpert, gaussian_density, product_of_gaussians

__all__ = [
    "BayesFusion",
    "DetectorFusion",
    "GaussianExpert",
    "SimulatedDetectors",
    "binormal_auc",
    "binormal_roc",
    "fuse_detectors",
    "fuse_evidence",
    "fused_dprime_correlated",
    "gaussian_density",
    "odds_to_probability",
    "probability_to_odds",
    "product_of_gaussians",
    "simulate_detectors",
]
