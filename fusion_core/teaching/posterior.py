"""Demo 7, real part: what the shipped product-of-experts VAE believes with CT only, MR only and both.

Precision (1 / variance) is what a product of experts adds: with the prior's precision 1 counted once,
precision(CT and MR) - 1 = (precision(CT) - 1) + (precision(MR) - 1) in every latent dimension. The
"information beyond the prior", mean over latent dimensions of 1/sigma^2 - 1, therefore adds up
across modalities, and is 0 with no input at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fusion_core.inference import encode
from fusion_core.volume import Volume

SUBSETS = ("CT only", "MR only", "CT + MR")


@dataclass(frozen=True)
class PosteriorBySubset:
    """Per-slice posterior summaries of one subject for each set of inputs.

    Attributes:
        information: {subset: (n_slices,) mean over latent dimensions of 1/sigma^2 - 1}.
        variance: {subset: (n_slices,) mean posterior variance over latent dimensions}.
    """

    information: dict[str, np.ndarray]
    variance: dict[str, np.ndarray]

    @property
    def n_slices(self) -> int:
        """Number of slices of the subject."""
        return len(self.information[SUBSETS[0]])

    def additivity_error(self) -> float:
        """Largest |info(both) - info(CT) - info(MR)| over slices: 0 for an exact product of experts."""
        info = self.information
        return float(np.max(np.abs(info["CT + MR"] - info["CT only"] - info["MR only"])))


def posterior_by_subset(model, ct: Volume, mr: Volume) -> PosteriorBySubset:
    """Encode every slice of one subject from CT only, MR only and both.

    Args:
        model: the shipped PoE VAE (inputs CT and MR-T1) or any model :func:`encode` accepts.
        ct: (with ``mr``) the subject's CT and T1 MR on one grid (``Case.aligned()``).
        mr: see ``ct``.

    Returns:
        Per-slice information beyond the prior and mean variance for each subset.
    """
    inputs = {"CT only": {"CT": ct}, "MR only": {"MR-T1": mr}, "CT + MR": {"CT": ct, "MR-T1": mr}}
    information, variance = {}, {}
    for name, volumes in inputs.items():
        _, var = encode(model, volumes, variance=True)
        information[name] = (1.0 / var - 1.0).mean(axis=1)
        variance[name] = var.mean(axis=1)
    return PosteriorBySubset(information=information, variance=variance)
