"""Run shipped or trained models on volumes: one path from a case to every model.

``load_model(name)`` gives a :class:`LoadedModel` (network + typed :class:`ModelCard`); the task
functions take it with volumes ``{"CT": ct, "MR-T1": t1, "MR-T2": t2}`` already on one grid
(``Case.aligned()``):

* ``classify(model, volumes) -> ClassificationResult`` (fusion classifiers),
* ``impute(model, volumes, target="CT"|"MR") -> Volume`` (every generative model),
* ``impute_with_uncertainty(model, volumes, target, samples=K) -> UncertainImputation`` (mean and
  per-voxel spread of a sampling model: diffusion),
* ``encode(model, volumes) -> (n_slices, d)`` latent means (VAE, PoE classifier).

Serving never imports training code: checkpoints are read by :mod:`fusion_core.checkpoints`, the
intensity scaling and slice geometry live in :mod:`fusion_core.preprocess`.
"""

from fusion_core.devices import select_device
from fusion_core.inference.classify import TOP_K, ClassificationResult, classify
from fusion_core.inference.encode import encode
from fusion_core.inference.generate import UncertainImputation, impute, impute_with_uncertainty
from fusion_core.inference.inputs import check_volumes, crop_fraction, from_network, to_network
from fusion_core.inference.loading import LoadedModel, as_loaded, load_model
from fusion_core.inference.registry import ASSETS_DIR, ModelCard, ModelInputError, list_models, read_card

__all__ = [
    "ASSETS_DIR",
    "TOP_K",
    "ClassificationResult",
    "LoadedModel",
    "ModelCard",
    "ModelInputError",
    "UncertainImputation",
    "as_loaded",
    "check_volumes",
    "classify",
    "crop_fraction",
    "encode",
    "from_network",
    "impute",
    "impute_with_uncertainty",
    "list_models",
    "load_model",
    "read_card",
    "select_device",
    "to_network",
]
