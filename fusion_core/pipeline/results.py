"""Reading a pipeline output folder back: the cohort table, the summary, per-subject files, latents, scores.

Light on purpose (pandas and numpy only): the app opens output folders with it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fusion_core.errors import FusionError
from fusion_core.io import load_volume
from fusion_core.latents import LatentTable

TABLE_CSV = "cohort_table.csv"
TABLE_PARQUET = "cohort_table.parquet"
SUMMARY = "summary.json"
SCORES_DIR = "scores"


#: Columns of words (what ran, what was skipped and why, the readers' repairs), "" when there is nothing to say.
TEXT_COLUMNS = {"steps_run", "steps_skipped", "load_notes"}


class PipelineResultsError(FusionError):
    """A folder is not a (finished) pipeline output, or a part asked for is missing."""


@dataclasses.dataclass(frozen=True)
class PipelineResults:
    """A pipeline output folder.

    Attributes:
        root: the output folder.
        table: one row per subject: subject_id, status, error, label, site, lesion_type, then every metric
            (``tre_median_mm``, ``mi_after``, ``<model>.<CT|MR>.mae``, ``<classifier>.score``, ...).
        summary: ``summary.json`` (counts, failures, settings, per-metric mean/median/min/max).
    """

    root: Path
    table: pd.DataFrame
    summary: dict[str, Any]

    @property
    def cohort_root(self) -> str:
        """The input cohort folder the run read."""
        return str(self.summary.get("cohort", ""))

    @property
    def failures(self) -> dict[str, str]:
        """Subject id -> error message of each failed subject."""
        return dict(self.summary.get("failures", {}))

    def subject_dir(self, subject_id: str) -> Path:
        """``<root>/<subject_id>``: a SynthRAD-style subject folder (CT, MR on the CT grid, masks, outputs)."""
        if subject_id not in set(self.table["subject_id"]):
            raise PipelineResultsError(f"{self.root}: no subject {subject_id!r} in the pipeline's table")
        return self.root / subject_id

    def generated(self, subject_id: str) -> dict[str, Path]:
        """``"<model>_<CT|MR>"`` -> path of every volume the synthesise step made for the subject."""
        folder = self.subject_dir(subject_id) / "generated"
        return {p.name.removesuffix(".nii.gz"): p for p in sorted(folder.glob("*.nii.gz"))}

    @property
    def scores_root(self) -> Path:
        """``<root>/scores``: one ``<classifier>/scores.csv`` per classifier (shipped scores format)."""
        return self.root / SCORES_DIR

    def metric_columns(self) -> list[str]:
        """Numeric columns other than the label (what a user sorts and filters on)."""
        numeric = self.table.select_dtypes("number").columns
        return [c for c in numeric if c != "label"]


def is_pipeline_output(path: str | Path) -> bool:
    """Whether ``path`` holds a pipeline's summary and cohort table."""
    path = Path(path).expanduser()
    return (path / SUMMARY).is_file() and ((path / TABLE_CSV).is_file() or (path / TABLE_PARQUET).is_file())


def read_pipeline_results(path: str | Path) -> PipelineResults:
    """Read a pipeline output folder.

    Raises:
        PipelineResultsError: not a pipeline output folder (no summary.json / cohort table), or unreadable.
    """
    root = Path(path).expanduser()
    if not is_pipeline_output(root):
        raise PipelineResultsError(
            f"{root}: not a pipeline output folder (expected {SUMMARY} and {TABLE_CSV}; "
            "run python -m fusion_core.pipeline --cohort DIR --out DIR first)"
        )
    try:
        summary = json.loads((root / SUMMARY).read_text())
        table = pd.read_csv(root / TABLE_CSV, dtype={"subject_id": str, "status": str, "error": str})
    except (OSError, ValueError) as exc:
        raise PipelineResultsError(f"{root}: cannot read the pipeline's outputs: {exc}") from None
    table["error"] = table["error"].fillna("") if "error" in table.columns else ""
    for column in TEXT_COLUMNS & set(table.columns):  # an empty text cell reads back from CSV as NaN
        table[column] = table[column].fillna("")
    if "label" in table.columns:
        table["label"] = table["label"].astype("Int64")
    return PipelineResults(root, table, summary)


def read_pipeline_latents(path: str | Path, model: str = "vae-poe", *, slice_step: int = 1):
    """The latents the encode step stored, as the Latent Space page's table (``fusion_core.latents.LatentTable``).

    Args:
        path: a pipeline output folder.
        model: the encoder whose latents to read (``latents/<model>.npy`` per subject).
        slice_step: keep every k-th slice.

    Raises:
        PipelineResultsError: no subject has latents of ``model`` (run the pipeline with ``--steps ...,encode``).
    """
    results = read_pipeline_results(path)
    latents, rows = [], []
    for record in results.table[results.table["status"] != "failed"].to_dict("records"):
        file = results.root / record["subject_id"] / "latents" / f"{Path(model).name}.npy"
        if not file.is_file():
            continue
        z = np.load(file)
        keep = np.arange(0, len(z), max(1, slice_step))
        latents.append(z[keep])
        rows.append(_latent_meta(record, keep, len(z), results.root / record["subject_id"]))
    if not latents:
        raise PipelineResultsError(
            f"{results.root}: no latents of {model!r}; run the pipeline with --steps ...,encode --models {model}"
        )
    return LatentTable(np.concatenate(latents).astype(np.float32), pd.concat(rows, ignore_index=True))


def _latent_meta(record: dict[str, Any], keep: np.ndarray, n_slices: int, folder: Path) -> pd.DataFrame:
    """The columns of ``fusion_core.latents.encode_cohort``'s table for one subject's stored latents.

    The encode step stores the code of whatever the subject has: "joint" of one scan for an unpaired one.
    """
    has_ct, has_mr = (folder / "ct.nii.gz").is_file(), (folder / "mr.nii.gz").is_file()
    return pd.DataFrame(
        {
            "subject_id": record["subject_id"],
            "slice": keep,
            "n_slices": n_slices,
            "scans": "CT + MR" if has_ct and has_mr else ("CT only" if has_ct else "MR only"),
            "label": record.get("label"),
            "lesion_type": record.get("lesion_type") or "unknown",
            "site": record.get("site") or "",
            "posterior": "joint",
            "slice_has_lesion": _slice_lesions(folder, keep),
        }
    )


def _slice_lesions(folder: Path, keep: np.ndarray) -> np.ndarray:
    """Whether each kept slice holds lesion voxels (the lesion mask, when the cohort had one), else NaN."""
    path = folder / "masks" / "lesion.nii.gz"
    if not path.is_file():
        return np.full(len(keep), np.nan)
    lesion = load_volume(path).array > 0.5
    per_slice = lesion.reshape(lesion.shape[0], -1).any(1).astype(float)
    return per_slice[keep] if len(per_slice) > keep.max(initial=0) else np.full(len(keep), np.nan)
