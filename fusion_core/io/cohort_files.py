"""Finding a cohort's files: SynthRAD-style subject folders or a ``manifest.csv``.

Only paths and table values here; nothing is loaded (see :mod:`fusion_core.io.cohort`).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pandas as pd

from fusion_core.case import PRIMARY_WEIGHTING, weighting_key
from fusion_core.io.errors import CohortError
from fusion_core.volume import is_mr, normalise_modality

IMAGE_SUFFIXES = (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd")
MR_NAMES = {"mr": "MR", "mri": "MR", "t1": "MR-T1", "t1w": "MR-T1", "mr_t1": "MR-T1", "t2": "MR-T2",
            "t2w": "MR-T2", "mr_t2": "MR-T2", "flair": "MR-FLAIR", "mr_flair": "MR-FLAIR"}  # fmt: skip
TRANSFORM_NAMES = ("true_transform.tfm", "transform.tfm")
MANIFEST_REQUIRED = ("subject_id", "modality", "path")
MANIFEST_OPTIONAL = ("label", "site")


@dataclasses.dataclass
class SubjectFiles:
    """Where one subject's scans live, plus its label and metadata (nothing loaded yet).

    Attributes:
        subject_id: the folder name or manifest id.
        ct / mr: image paths or None; ``mr_modality`` is e.g. "MR" or "MR-T1".
        masks: mask name -> path (SynthRAD ``mask.nii.gz``, the patient outline, becomes "head"; ``mask_brain.nii.gz``,
            ``brain_mask.nii.gz`` and ``masks/brain.nii.gz`` become "brain").
        transform: a SimpleITK ``.tfm`` holding the true CT->MR transform, when known.
        extra: further MR weightings for ``Case.mr_weightings``: file role (e.g. "mr_t2") -> (path, modality).
        label: 0/1 or None; meta: site and any other cohort.csv columns.
    """

    subject_id: str
    ct: Path | None = None
    mr: Path | None = None
    mr_modality: str = "MR"
    masks: dict[str, Path] = dataclasses.field(default_factory=dict)
    transform: Path | None = None
    extra: dict[str, tuple[Path, str]] = dataclasses.field(default_factory=dict)
    label: int | None = None
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)


def image_stem(path: Path) -> str | None:
    """Lower-case name without an image suffix, or None when ``path`` is not an image file."""
    name = path.name.lower()
    for suffix in IMAGE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def scan_subject_folders(root: Path) -> tuple[list[SubjectFiles], list[str]]:
    """One SubjectFiles per sub-folder holding a CT or MR image; notes on what was skipped."""
    subjects, notes = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        subject, folder_notes = _subject_from_folder(folder)
        notes += folder_notes
        if subject.ct is None and subject.mr is None:
            notes.append(f"skipped {folder.name}/: no ct.* or mr.* image in it")
        else:
            subjects.append(subject)
    return subjects, notes


def _subject_from_folder(folder: Path) -> tuple[SubjectFiles, list[str]]:
    subject = SubjectFiles(folder.name)
    mr_candidates: list[Path] = []
    for path in sorted(folder.iterdir()):
        stem = image_stem(path)
        if path.name.lower() in TRANSFORM_NAMES:
            subject.transform = path
        elif path.is_dir() and path.name.lower() == "masks":
            subject.masks.update({image_stem(p): p for p in sorted(path.iterdir()) if image_stem(p)})
        elif stem == "ct":
            subject.ct = path
        elif stem in MR_NAMES:
            mr_candidates.append(path)
        elif stem is not None and (stem == "mask" or stem.startswith("mask_") or stem.endswith("_mask")):
            subject.masks[_mask_name(stem)] = path
    return subject, _choose_mr(folder, subject, mr_candidates)


def _mask_name(stem: str) -> str:
    """SynthRAD's plain ``mask`` outlines the patient: call it "head" like the phantom does."""
    return "head" if stem == "mask" else stem.removeprefix("mask_").removesuffix("_mask")


def _choose_mr(folder: Path, subject: SubjectFiles, candidates: list[Path]) -> list[str]:
    """Take the first MR by name priority (mr, t1, t2, ...); keep each other weighting as an extra.

    A plain ``mr`` counts as T1, so a ``t1`` beside it is a second T1 and is skipped with a note.
    """
    if not candidates:
        return []
    order = list(MR_NAMES)
    candidates.sort(key=lambda p: order.index(image_stem(p) or "mr"))
    subject.mr, others = candidates[0], candidates[1:]
    subject.mr_modality = MR_NAMES[image_stem(subject.mr) or "mr"]
    skipped = [path.name for path in others if _add_weighting(subject, MR_NAMES[image_stem(path) or "mr"], path)]
    if not others:
        return []
    notes = [f"{folder.name}: used {subject.mr.name} as the MR; also found {', '.join(p.name for p in others)}"]
    return notes + [f"{folder.name}: skipped {name}: a second file of the same MR weighting" for name in skipped]


def _add_weighting(subject: SubjectFiles, modality: str, path: Path) -> str | None:
    """Keep ``path`` as a further MR weighting; a problem description when that weighting is taken."""
    taken = {weighting_key(subject.mr_modality)} | {weighting_key(m) for _, m in subject.extra.values()}
    if weighting_key(modality) in taken:
        return f"{subject.subject_id}: a second {weighting_key(modality)} file ('{path.name}')"
    subject.extra[modality.lower().replace("-", "_")] = (path, modality)
    return None


def read_manifest(root: Path, manifest: Path) -> list[SubjectFiles]:
    """Subjects described by ``manifest.csv`` (subject_id, modality, path[, label, site]).

    Raises:
        CohortError: missing or unknown columns, unknown modalities, missing files, duplicates.
    """
    table = read_csv(manifest, required=MANIFEST_REQUIRED, optional=MANIFEST_OPTIONAL)
    subjects: dict[str, SubjectFiles] = {}
    problems: list[str] = []
    for row_number, row in enumerate(table.to_dict("records"), start=2):
        subject = subjects.setdefault(row["subject_id"], SubjectFiles(row["subject_id"]))
        problem = _add_manifest_row(root, subject, row)
        if problem:
            problems.append(f"line {row_number}: {problem}")
    if problems:
        shown = "; ".join(problems[:8]) + (f"; ... ({len(problems)} problems)" if len(problems) > 8 else "")
        raise CohortError(f"{manifest}: {shown}")
    return list(subjects.values())


def _add_manifest_row(root: Path, subject: SubjectFiles, row: dict[str, Any]) -> str | None:
    """Put one manifest row into ``subject``; return a problem description or None."""
    raw_modality = str(row["modality"]).strip()
    modality = normalise_modality(raw_modality)
    path = Path(str(row["path"]).strip())
    path = path if path.is_absolute() else root / path
    if not path.resolve().is_relative_to(root.resolve()):
        return f"{subject.subject_id}: file '{row['path']}' lies outside the cohort folder (paths are relative to it)"
    if not path.exists():
        return f"{subject.subject_id}: file '{row['path']}' does not exist"
    label_problem = _merge_label(subject, row.get("label"))
    if label_problem:
        return label_problem
    if row.get("site") is not None:
        subject.meta["site"] = row["site"]
    if modality == "CT":
        return _set_once(subject, "ct", path)
    if is_mr(modality):
        return _add_mr(subject, modality, path)
    if modality == "MASK" or modality.startswith("MASK-"):
        subject.masks[modality.removeprefix("MASK").lstrip("-").lower() or "head"] = path
        return None
    return (
        f"{subject.subject_id}: unknown modality '{raw_modality}' (use CT, MR, MR-T1, MR-T2, MR-FLAIR or MASK[-name])"
    )


def _add_mr(subject: SubjectFiles, modality: str, path: Path) -> str | None:
    """The subject's MR is its T1 (else its first MR row); another weighting becomes an extra (e.g. "mr_t2")."""
    if subject.mr is None:
        subject.mr, subject.mr_modality = path, modality
        return None
    problem = _add_weighting(subject, modality, path)
    if problem is None and weighting_key(modality) == PRIMARY_WEIGHTING:  # the T1 becomes the primary MR
        role = modality.lower().replace("-", "_")
        subject.extra.pop(role)
        subject.extra[subject.mr_modality.lower().replace("-", "_")] = (subject.mr, subject.mr_modality)
        subject.mr, subject.mr_modality = path, modality
    return problem


def _set_once(subject: SubjectFiles, field: str, path: Path) -> str | None:
    if getattr(subject, field) is not None:
        return f"{subject.subject_id}: a second {field.upper()} file ('{path.name}')"
    setattr(subject, field, path)
    return None


def _merge_label(subject: SubjectFiles, value: Any) -> str | None:
    try:
        label = parse_label(value)
    except ValueError as exc:
        return f"{subject.subject_id}: {exc}"
    if label is not None and subject.label is not None and label != subject.label:
        return f"{subject.subject_id}: conflicting labels {subject.label} and {label}"
    subject.label = subject.label if label is None else label
    return None


def parse_label(value: Any) -> int | None:
    """0/1 (also "0", "1", True, 1.0) -> int; blank/NaN -> None.

    Raises:
        ValueError: anything else.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return None
    text = str(value).strip().lower()
    mapping = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "false": 0, "true": 1}
    if text not in mapping:
        raise ValueError(f"label must be 0, 1 or empty, got {value!r}")
    return mapping[text]


def read_csv(path: Path, *, required: tuple[str, ...], optional: tuple[str, ...] | None) -> pd.DataFrame:
    """Read a cohort CSV with string subject ids, checking its columns.

    Args:
        path: the CSV file.
        required: columns that must be present.
        optional: other allowed columns, or None to allow any.

    Raises:
        CohortError: unreadable CSV, missing required columns, unknown columns (listed).
    """
    try:
        table = pd.read_csv(path, dtype={"subject_id": str}, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise CohortError(f"{path}: not a readable CSV file ({exc})") from exc
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    unknown = [] if optional is None else [c for c in table.columns if c not in (*required, *optional)]
    if missing or unknown:
        wrong = [f"missing required columns {missing}"] * bool(missing) + [f"unknown columns {unknown}"] * bool(unknown)
        raise CohortError(
            f"{path}: {'; '.join(wrong)}; found {list(table.columns)}; "
            f"expected {list(required)} plus optional {list(optional or ())}"
        )
    table = table.astype(object).where(table.notna(), None)
    table["subject_id"] = [str(s).strip() if s is not None else "" for s in table["subject_id"]]
    if (table["subject_id"] == "").any():
        raise CohortError(
            f"{path}: empty subject_id on lines {[i + 2 for i in table.index[table['subject_id'] == '']]}"
        )
    return table
