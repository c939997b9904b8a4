"""Demo 4, misregistration: shift or rotate the MR against the CT and watch early fusion suffer.

Early fusion stacks CT and MR voxel by voxel, so a misaligned MR puts the wrong tissue beside each CT
voxel; late fusion reads each scan on its own and does not care. The live part (mutual information,
the early-fusion input) runs on one subject per control change; the AUC curve over a few offsets
needs every subject classified at every offset, so it is precomputed by this module's CLI::

    python -m fusion_core.teaching.misregistration --subjects 40 --out assets/teaching/misregistration.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from fusion_core.case import Case
from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.errors import FusionError
from fusion_core.evaluation import auc_score
from fusion_core.paths import assets_dir
from fusion_core.preprocess.masks import ct_head_mask
from fusion_core.preprocess.resample import resample_to
from fusion_core.registration.misalign import perturbation
from fusion_core.registration.quality import mutual_information
from fusion_core.volume import Volume

CURVE_FILE = assets_dir() / "teaching" / "misregistration.json"
CURVE_OFFSETS_MM = (0.0, 2.0, 4.0, 8.0, 16.0)
CURVE_MODELS = ("clf-early", "clf-late")


def misalign_mr(case: Case, *, shift_mm: float = 0.0, rotation_deg: float = 0.0) -> dict[str, Volume]:
    """The aligned case's MR weightings moved on the CT grid: shifted left-right, rotated in the axial plane.

    Args:
        case: a case whose MR is already on the CT grid (``Case.aligned()``).
        shift_mm: shift along x (patient left-right), mm.
        rotation_deg: rotation about the z axis through the CT's centre, degrees.

    Returns:
        {"MR-T1": ..., "MR-T2": ...} resampled on the CT grid (0 where the MR left the field of view).
    """
    transform = perturbation(case.ct.center_mm, shift_mm=(shift_mm, 0.0, 0.0), rotation_deg=(0.0, 0.0, rotation_deg))
    return {name: resample_to(mr, case.ct, transform=transform, default=0.0) for name, mr in case.mr_weightings.items()}


@dataclass(frozen=True)
class MisregistrationView:
    """One subject with its MR deliberately misaligned.

    Attributes:
        mutual_information: CT-T1 mutual information inside the CT head mask, bits.
        ct_slice, mr_slice: (h, w) the middle axial slice of the CT (HU) and the moved T1 MR (a.u.).
    """

    mutual_information: float
    ct_slice: np.ndarray
    mr_slice: np.ndarray


def misregistration_view(case: Case, *, shift_mm: float = 0.0, rotation_deg: float = 0.0) -> MisregistrationView:
    """Mutual information and the early-fusion input (middle slice) of ``case`` with its MR moved."""
    mr = misalign_mr(case, shift_mm=shift_mm, rotation_deg=rotation_deg)["MR-T1"]
    mask = ct_head_mask(case.ct.array)
    middle = case.ct.shape[0] // 2
    return MisregistrationView(
        mutual_information=mutual_information(case.ct.array, mr.array, mask=mask),
        ct_slice=case.ct.array[middle],
        mr_slice=mr.array[middle],
    )


@dataclass(frozen=True)
class MisregistrationCurve:
    """AUC of each classifier, and mean mutual information, as the MR is shifted.

    Attributes:
        offsets_mm: (k,) left-right shifts of the MR.
        auc: model name -> (k,) AUC over the subjects at each shift.
        mutual_information: (k,) mean CT-T1 mutual information, bits.
        subject_ids: the subjects used; n_positive: how many carry a lesion.
        seconds: time taken to compute.
        weights: model name -> :func:`weights_fingerprint` of the checkpoint measured, so a curve
            left behind by a retrained model can be told apart.
    """

    offsets_mm: np.ndarray
    auc: dict[str, np.ndarray]
    mutual_information: np.ndarray
    subject_ids: tuple[str, ...]
    n_positive: int
    seconds: float = 0.0
    weights: dict[str, str] = field(default_factory=dict)


def misregistration_curve(
    models: Mapping[str, object], cases: Sequence[tuple[Case, int]], offsets_mm: Sequence[float] = CURVE_OFFSETS_MM
) -> MisregistrationCurve:
    """Classify every case at every MR shift with every model.

    Args:
        models: name -> loaded classifier reading CT, MR-T1 and MR-T2.
        cases: (aligned case, 0/1 label) pairs, both classes present.
        offsets_mm: left-right MR shifts.

    Returns:
        The AUC per model and the mean mutual information at each shift.
    """
    # lazy: fusion_core.inference imports torch; this module's import stays torch-free
    from fusion_core.inference import classify

    start = time.perf_counter()
    labels = np.array([label for _, label in cases])
    scores = {name: np.zeros((len(offsets_mm), len(cases))) for name in models}
    mi = np.zeros((len(offsets_mm), len(cases)))
    for j, (case, _) in enumerate(cases):
        mask = ct_head_mask(case.ct.array)
        for i, offset in enumerate(offsets_mm):
            mrs = misalign_mr(case, shift_mm=float(offset))
            mi[i, j] = mutual_information(case.ct.array, mrs["MR-T1"].array, mask=mask)
            for name, model in models.items():
                scores[name][i, j] = classify(model, {"CT": case.ct, **mrs}, mc_samples=1).probability
    return MisregistrationCurve(
        offsets_mm=np.asarray(offsets_mm, dtype=float),
        auc={name: np.array([auc_score(labels, row) for row in s]) for name, s in scores.items()},
        mutual_information=mi.mean(axis=1),
        subject_ids=tuple(case.subject_id for case, _ in cases),
        n_positive=int(labels.sum()),
        seconds=time.perf_counter() - start,
    )


VOXELWISE = "voxel-wise early fusion"  # the curve entry of :func:`voxelwise_aucs`
MR_VISIBLE_LESIONS = ("oedema", "subacute-haemorrhage", "haemorrhage")  # the MR carries the evidence


def _voxel_table(case: Case, mrs: Mapping[str, Volume]) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) per-scan z-scored (CT, T1, T2) of the brain's voxels and (n,) 0/1 lesion truth."""
    brain = case.masks["brain"].array > 0.5
    columns = [case.ct.array[brain], *(mrs[name].array[brain] for name in ("MR-T1", "MR-T2"))]
    x = np.stack([(c - c.mean()) / max(float(c.std()), 1e-6) for c in columns], axis=1)
    return x, (case.masks["lesion"].array[brain] > 0.5).astype(int)


def voxelwise_aucs(cases: Sequence[Case], offsets_mm: Sequence[float] = CURVE_OFFSETS_MM) -> np.ndarray:
    """Voxel AUC of the simplest early fusion, as the MR is shifted: a linear classifier of each voxel.

    A logistic regression of lesion vs not from each voxel's (CT, T1, T2) is trained on the first half
    of the cases, aligned, and tested on the other half with the MR shifted. It has no pooling to
    hide behind: it needs the three values of one voxel to come from one place. Give it lesions the
    MR shows (:data:`MR_VISIBLE_LESIONS`); for a calcification the CT alone decides.

    Args:
        cases: aligned cases with "brain" and "lesion" masks, each carrying a lesion (at least two).
        offsets_mm: left-right MR shifts.

    Returns:
        (k,) voxel AUC at each shift.
    """
    # lazy: scikit-learn takes ~1.5 s to import
    from sklearn.linear_model import LogisticRegression

    train, test = cases[: len(cases) // 2], cases[len(cases) // 2 :]
    x, y = (np.concatenate(parts) for parts in zip(*(_voxel_table(c, c.mr_weightings) for c in train), strict=True))
    model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(x, y)
    aucs = []
    for offset in offsets_mm:
        tables = [_voxel_table(c, misalign_mr(c, shift_mm=float(offset))) for c in test]
        x_test, y_test = (np.concatenate(parts) for parts in zip(*tables, strict=True))
        aucs.append(auc_score(y_test, model.decision_function(x_test)))
    return np.array(aucs)


def write_curve(curve: MisregistrationCurve, path: str | Path = CURVE_FILE) -> Path:
    """Write ``curve`` as JSON (arrays as lists) to ``path``, creating its folder.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(curve).items()}
    data["auc"] = {k: np.asarray(v).tolist() for k, v in curve.auc.items()}
    path.write_text(json.dumps(data, indent=2))
    return path


def read_curve(path: str | Path = CURVE_FILE) -> MisregistrationCurve:
    """Read a precomputed curve.

    Raises:
        FusionError: no such file (the message says how to make it).
    """
    path = Path(path)
    if not path.is_file():
        raise FusionError(f"{path}: no precomputed misregistration curve; run python -m {__name__}")
    data = json.loads(path.read_text())
    return MisregistrationCurve(
        offsets_mm=np.asarray(data["offsets_mm"]),
        auc={k: np.asarray(v) for k, v in data["auc"].items()},
        mutual_information=np.asarray(data["mutual_information"]),
        subject_ids=tuple(data["subject_ids"]),
        n_positive=int(data["n_positive"]),
        seconds=float(data.get("seconds", 0.0)),
        weights=dict(data.get("weights", {})),
    )


def weights_fingerprint(name: str | Path) -> str:
    """First 16 hex digits of the SHA-256 of a model's ``model.safetensors`` (shipped name or folder)."""
    # lazy: fusion_core.inference imports torch; this module's import stays torch-free
    from fusion_core.inference.registry import model_dir

    return hashlib.sha256((model_dir(name) / "model.safetensors").read_bytes()).hexdigest()[:16]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: precompute the Learn page's misregistration AUC curve and write it.

    Returns:
        The exit code (0).
    """
    # lazy: torch (here and through fusion_core.inference) stays out of this module's import
    import torch

    from fusion_core.inference import load_model

    parser = argparse.ArgumentParser(description="Precompute the Learn page's misregistration AUC curve.")
    parser.add_argument("--subjects", type=int, default=40, help="first N subjects of the demo cohort")
    parser.add_argument("--voxel-cases", type=int, default=10, help="MR-visible lesions for the voxel-wise curve")
    parser.add_argument("--out", type=Path, default=CURVE_FILE)
    parser.add_argument("--models-dir", type=Path, default=None, help="folder of the classifiers (default: shipped)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy 2-core box)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    spec = get_cohort_spec("demo")
    cases = [(s.to_case().aligned(), int(s.label)) for s in (spec.subject(i) for i in range(args.subjects))]
    where = {name: (args.models_dir / name if args.models_dir else name) for name in CURVE_MODELS}
    models = {name: load_model(where[name], device="cpu") for name in CURVE_MODELS}
    curve = misregistration_curve(models, cases)
    curve.auc[VOXELWISE] = voxelwise_aucs(_mr_lesion_cases(spec, args.voxel_cases))
    curve.weights.update({name: weights_fingerprint(where[name]) for name in CURVE_MODELS})
    print(write_curve(curve, args.out), {k: np.round(v, 3).tolist() for k, v in curve.auc.items()})
    return 0


def _mr_lesion_cases(spec, n: int) -> list[Case]:
    """The first ``n`` subjects of ``spec`` with a lesion the MR shows, aligned."""
    found = []
    for index in range(spec.n):
        subject = spec.subject(index)
        if subject.label and subject.meta["lesion_type"] in MR_VISIBLE_LESIONS:
            found.append(subject.to_case().aligned())
        if len(found) == n:
            break
    return found


if __name__ == "__main__":
    raise SystemExit(main())
