"""The cohort's outputs: the metric table, the JSON summary, the labels and per-classifier scores files.

The table as CSV, and Parquet when pyarrow is installed; labels as ``cohort.csv`` (so the output
folder is a cohort again).
"""

from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fusion_core.evaluation import score_column, uncertainty_column, write_scores
from fusion_core.pipeline.config import PipelineConfig
from fusion_core.pipeline.files import atomic_path, write_json
from fusion_core.pipeline.results import SCORES_DIR, SUMMARY, TABLE_CSV, TABLE_PARQUET

FIRST_COLUMNS = (
    "subject_id",
    "status",
    "error",
    "label",
    "site",
    "lesion_type",
    "steps_run",
    "steps_skipped",
    "load_notes",
)


def cohort_table(results: list) -> pd.DataFrame:
    """One row per subject: status ("done", "skipped", "failed"), the failure's reason, every metric."""
    rows = [{"subject_id": r.subject_id, "status": r.status, "error": r.error, **r.row} for r in results]
    table = pd.DataFrame(rows)
    table = table[sorted(table.columns, key=_column_rank)]
    if "label" in table.columns:
        table["label"] = pd.to_numeric(table["label"], errors="coerce").astype("Int64")
    return table


def _column_rank(column: str) -> tuple[int, int]:
    """Sort key of a table column.

    Identity and what ran first, then registration quality and coverage, classifier scores, generation
    metrics, timings last.
    """
    if column in FIRST_COLUMNS:
        return 0, FIRST_COLUMNS.index(column)
    groups = (
        ("tre_", "mi_", "head_coverage"),
        (".score", ".uncertainty"),
        (".CT.", ".MR."),
        ("registration_", "seconds_"),
    )
    for rank, markers in enumerate(groups, start=1):
        if any(m in column if m.startswith(".") else column.startswith(m) for m in markers):
            return rank, 0
    return len(groups), 0


def has_parquet() -> bool:
    """Whether pandas can write Parquet here (pyarrow installed)."""
    return importlib.util.find_spec("pyarrow") is not None


def write_table(out: Path, table: pd.DataFrame) -> list[str]:
    """Write the table as CSV (always) and Parquet (when pyarrow is installed), atomically; returns the names."""
    with atomic_path(out / TABLE_CSV) as tmp:
        table.to_csv(tmp, index=False)
    written = [TABLE_CSV]
    if has_parquet():
        with atomic_path(out / TABLE_PARQUET) as tmp:
            table.to_parquet(tmp, index=False)
        written.append(TABLE_PARQUET)
    return written


def metric_summary(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Mean, median, min, max and count of every numeric metric over the processed subjects."""
    ok = table[table["status"] != "failed"]
    summary = {}
    for column in ok.columns.drop(["subject_id", "status", "error", "label"], errors="ignore"):
        values = pd.to_numeric(ok[column], errors="coerce").astype(float)
        finite = values[np.isfinite(values)]
        if finite.empty:
            continue
        summary[column] = {
            "mean": float(finite.mean()),
            "median": float(finite.median()),
            "min": float(finite.min()),
            "max": float(finite.max()),
            "n": int(finite.size),
        }
    return summary


def write_cohort_outputs(out: Path, cohort, results: list, config: PipelineConfig, *, run_info: dict[str, Any]) -> None:
    """Table, summary, cohort.csv and the classifiers' scores files of a finished run."""
    table = cohort_table(results)
    written = write_table(out, table)
    _write_labels(out, cohort, results)
    scores = write_classifier_scores(out, table, config, cohort_root=str(cohort.root))
    failures = {r.subject_id: r.error for r in results if r.status == "failed"}
    write_json(
        out / SUMMARY,
        {
            "cohort": str(cohort.root),
            "n_subjects": len(results),
            "n_done": sum(r.status == "done" for r in results),
            "n_skipped": sum(r.status == "skipped" for r in results),
            "n_failed": len(failures),
            "failures": failures,
            "settings": config.as_dict(),
            "settings_digest": config.digest(),
            "tables": written,
            "scores": scores,
            "metrics": metric_summary(table),
            "run": run_info,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )


def _write_labels(out: Path, cohort, results: list) -> None:
    """``cohort.csv`` of the processed subjects (labels and metadata as in the input cohort)."""
    processed = {r.subject_id for r in results if r.status != "failed"}
    labels = cohort.table[cohort.table["subject_id"].isin(processed)]
    keep = [c for c in labels.columns if c not in ("has_ct", "has_mr", "mr_modality", "mr_weightings", "masks")]
    with atomic_path(out / "cohort.csv") as tmp:
        labels[keep].to_csv(tmp, index=False)


def write_classifier_scores(out: Path, table: pd.DataFrame, config: PipelineConfig, *, cohort_root: str) -> list[str]:
    """Write ``scores/<classifier>/scores.csv`` for subjects with a known label.

    In the shipped scores format (``fusion_core.evaluation.scores_io``): what the Fusion Performance
    page reads.
    """
    # lazy: fusion_core.inference imports torch; this module's import stays torch-free
    from fusion_core.inference import read_card
    from fusion_core.inference.registry import model_dir

    labelled = table[(table["status"] != "failed") & table.get("label", pd.Series(dtype="Int64")).notna()]
    written = []
    for name in config.classifiers:
        column = f"{Path(name).name}.score"
        if labelled.empty or column not in labelled.columns:
            continue
        scored = labelled[labelled[column].notna()]  # an unpaired subject a classifier could not score
        if scored.empty:
            continue
        inputs = read_card(model_dir(name)).inputs
        frame = pd.DataFrame(
            {
                "subject_id": scored["subject_id"].astype(str),
                "label": scored["label"].astype(int),
                "lesion_type": _text(scored, "lesion_type", "unknown"),
                "site": _text(scored, "site", ""),
                "spec": f"folder:{Path(cohort_root).name}",
                "split": "test",
                score_column(inputs): scored[column].astype(float),
                uncertainty_column(inputs): scored[f"{Path(name).name}.uncertainty"].astype(float),
            }
        )
        path = write_scores(frame, out / SCORES_DIR / Path(name).name)
        written.append(path.relative_to(out).as_posix())
    return written


def _text(frame: pd.DataFrame, column: str, default: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(default, index=frame.index)
    return frame[column].map(lambda v: default if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
