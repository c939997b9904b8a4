"""Hand-made scores files in the shipped schema (CT, MR (T1+T2), early fusion, PoE) on seeded binormal subjects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fusion_core.evaluation import write_scores

BOTH, CT, MR = "score[CT+MR-T1+MR-T2]", "score[CT]", "score[MR-T1+MR-T2]"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def write_strategy_models(root: Path, *, n: int = 120, seed: int = 0) -> list[Path]:
    """clf-ct, clf-mr, clf-early, clf-poe scores folders; CT sees calcified lesions, MR haemorrhage, both oedema.

    Early fusion adds both evidences (doubly so: over-confident); PoE with a modality missing keeps
    that modality's evidence, early fusion with one missing loses half of it.
    """
    rng = np.random.default_rng(seed)
    label = np.repeat([0, 1], n // 2)
    lesion = np.where(label == 1, np.resize(["calcified", "subacute-haemorrhage", "oedema"], len(label)), "none")
    ct = rng.normal(np.select([lesion == "calcified", lesion == "oedema"], [2.0, 1.0], 0.0))
    mr = rng.normal(np.select([lesion == "subacute-haemorrhage", lesion == "oedema"], [2.0, 1.0], 0.0))
    base = pd.DataFrame(
        {
            "subject_id": [f"phantom-{i:03d}" for i in range(len(label))],
            "label": label,
            "lesion_type": lesion,
            "site": np.resize(["A", "B", "C"], len(label)),
            "spec": "demo",
            "split": "test",
        }
    )
    models = {
        "clf-ct": {CT: _sigmoid(ct - 1)},
        "clf-mr": {MR: _sigmoid(mr - 1)},
        "clf-early": {BOTH: _sigmoid(3 * (ct + mr - 2)), CT: _sigmoid(ct - 2), MR: _sigmoid(mr - 2)},
        "clf-poe": {BOTH: _sigmoid(ct + mr - 2), CT: _sigmoid(ct - 1), MR: _sigmoid(mr - 1)},
    }
    return [write_scores(base.assign(**cols), root / name).parent for name, cols in models.items()]
