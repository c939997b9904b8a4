"""Score classifiers on a cohort spec: every subject through ``classify``, with each modality dropped.

This is the one path from the shipped models to their ``scores.csv``: each subject of the spec's
split is built, aligned by its ground truth (``Case.aligned()``) and classified exactly as the app
does — the complete input, and each modality group alone (CT; the MR weightings the model reads),
where the model can run on it. The result is one :class:`ScoresTable` per model.

CLI::

    python -m fusion_core.evaluation.runner --spec demo --split test [--models clf-ct clf-poe ...]
        [--assets assets/models] [--write]

writes ``<model>/scores.csv`` beside each card with ``--write`` (else prints a summary only); the
file keeps the rows of other splits, so ``--spec classifier-train --split val --write`` adds the
validation scores temperature scaling is fitted on (with ``--complete-only``: no modality dropped).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.data.splits import split_indices, split_members
from fusion_core.evaluation.scores_io import (
    SCORES_FILE,
    ScoresTable,
    read_scores,
    score_column,
    uncertainty_column,
    write_scores,
)


def input_subsets(inputs: Sequence[str]) -> list[tuple[str, ...]]:
    """The input subsets a model is scored on.

    All its inputs, then CT alone and the MR weightings alone (for a model that reads both).
    """
    inputs = tuple(inputs)
    ct = tuple(m for m in inputs if m == "CT")
    mr = tuple(m for m in inputs if m != "CT")
    return [inputs, ct, mr] if ct and mr else [inputs]


def subject_row(subject, spec_name: str, split: str) -> dict[str, Any]:
    """The descriptive columns of one subject's scores row (id, label, lesion type, site, spec, split)."""
    return {
        "subject_id": subject.subject_id,
        "label": int(subject.label),
        "lesion_type": subject.meta.get("lesion_type", "none"),
        "site": subject.meta.get("site", ""),
        "spec": spec_name,
        "split": split,
    }


def score_case(model, volumes: dict, *, mc_samples: int = 8, complete_only: bool = False) -> dict[str, float]:
    """One model's scores on one case's aligned volumes, per input subset.

    Returns ``{"score[...]": p, "uncertainty[...]": sd}``; only the complete input with ``complete_only``.
    """
    # lazy: fusion_core.inference imports torch; this module's import stays torch-free
    from fusion_core.inference import ModelInputError, classify

    row: dict[str, float] = {}
    subsets = input_subsets(model.card.inputs)
    for subset in subsets[:1] if complete_only else subsets:
        given = {m: volumes[m] for m in subset if m in volumes}
        if len(given) < len(subset):
            continue
        try:
            result = classify(model, given, mc_samples=mc_samples)
        except ModelInputError:  # e.g. a CT-only classifier on the MR subset
            continue
        row[score_column(subset)] = result.probability
        row[uncertainty_column(subset)] = result.uncertainty
    return row


def score_models(
    models: dict[str, Any],
    spec,
    split: str = "test",
    *,
    mc_samples: int = 8,
    progress: bool = False,
    complete_only: bool = False,
) -> dict[str, ScoresTable]:
    """Score every model on every subject of ``spec``'s ``split``.

    Args:
        models: name -> LoadedModel.
        spec: a CohortSpec (``get_cohort_spec("demo")``).
        split: "train", "val" or "test".
        mc_samples: MC-dropout passes per subject and subset.
        progress: print one line per subject.
        complete_only: score the complete input only, not each modality alone (what temperature
            scaling on a validation split needs; a third of the time).

    Returns:
        name -> ScoresTable (one row per subject).
    """
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in models}
    members = split_members(spec, split)
    for _, subject in tqdm(
        members, total=len(split_indices(spec, split)), desc=f"scoring {spec.name}/{split}", disable=not progress
    ):
        case = subject.to_case().aligned()
        volumes = {"CT": case.ct, **case.mr_weightings}
        base = subject_row(subject, spec.name, split)
        for name, model in models.items():
            rows[name].append(base | score_case(model, volumes, mc_samples=mc_samples, complete_only=complete_only))
    return {name: ScoresTable(pd.DataFrame(r), name=name) for name, r in rows.items()}


def merged_split(table: ScoresTable, path: Path) -> ScoresTable:
    """``table``'s rows in place of the same (spec, split) rows of the scores file at ``path``, if there is one.

    A model's ``scores.csv`` holds its test split (what the pages show) and may hold its validation
    split too (what temperature scaling is fitted on): writing one split keeps the others.
    """
    if not path.is_file():
        return table
    old = read_scores(path).frame
    new = table.frame
    keep = ~(old["spec"].isin(new["spec"].unique()) & old["split"].isin(new["split"].unique()))
    return ScoresTable(pd.concat([old[keep], new], ignore_index=True), name=table.name)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: score classifiers on a cohort split, print mean scores, optionally write scores files.

    Returns:
        The exit code (0).
    """
    # lazy: fusion_core.inference imports torch; this module's import stays torch-free
    from fusion_core.inference import ASSETS_DIR, list_models, load_model

    p = argparse.ArgumentParser(prog="python -m fusion_core.evaluation.runner", description=__doc__.splitlines()[0])
    p.add_argument("--spec", default="demo")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--models", nargs="*", help="model names or checkpoint folders (default: every classifier)")
    p.add_argument("--assets", default=str(ASSETS_DIR))
    p.add_argument("--mc-samples", type=int, default=8)
    p.add_argument("--complete-only", action="store_true", help="score the complete input only (no modality dropped)")
    p.add_argument("--write", action="store_true", help=f"write <model>/{SCORES_FILE}")
    args = p.parse_args(argv)
    names = args.models or list_models(args.assets, task="classifier")
    models = {Path(n).name: load_model(n, device="cpu", assets_dir=args.assets) for n in names}
    spec = get_cohort_spec(args.spec)
    tables = score_models(
        models, spec, args.split, mc_samples=args.mc_samples, progress=True, complete_only=args.complete_only
    )
    for name, table in tables.items():
        if args.write:
            write_scores(
                merged_split(table, Path(models[name].source) / SCORES_FILE), Path(models[name].source) / SCORES_FILE
            )
        cols = [c for c in table.frame.columns if c.startswith("score[")]
        print(name, table.frame[cols].mean().round(3).to_dict(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
