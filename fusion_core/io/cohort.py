"""``load_cohort``: a folder of subjects (SynthRAD layout) or a manifest, loaded lazily as Cases."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import SimpleITK as sitk

from fusion_core.case import SCAN_NOTES, Case, scan_key, weighting_key
from fusion_core.io.cohort_files import SubjectFiles, parse_label, read_csv, read_manifest, scan_subject_folders
from fusion_core.io.errors import CohortError, VolumeLoadError
from fusion_core.io.readers import load_volume_with_report

MANIFEST_NAME = "manifest.csv"
LABELS_NAME = "cohort.csv"


class Cohort:
    """Subjects found under ``root``; scans load only when a case is asked for.

    Attributes:
        root: the cohort folder.
        source: "folders" (``<root>/<id>/ct.nii.gz ...``) or "manifest" (``manifest.csv``).
        notes: remarks on what was skipped or assumed while scanning.
    """

    def __init__(self, root: Path, subjects: list[SubjectFiles], *, source: str, notes: list[str] | None = None):
        self.root = Path(root)
        self.source = source
        self.notes = list(notes or [])
        self._subjects = {s.subject_id: s for s in subjects}

    @property
    def subject_ids(self) -> list[str]:
        """The subjects' ids, in cohort order."""
        return list(self._subjects)

    def __len__(self) -> int:
        return len(self._subjects)

    def __contains__(self, subject_id: object) -> bool:
        return subject_id in self._subjects

    def __iter__(self) -> Iterator[Case]:
        """Cases one at a time, each loaded when reached."""
        return (self.load_case(subject_id) for subject_id in self._subjects)

    def files(self, subject_id: str) -> SubjectFiles:
        """Paths, label and metadata of one subject (nothing loaded).

        Raises:
            CohortError: unknown subject id (the message names a few known ones).
        """
        if subject_id not in self._subjects:
            known = ", ".join(self.subject_ids[:5]) + (f", ... ({len(self)} in all)" if len(self) > 5 else "")
            raise CohortError(f"no subject {subject_id!r} in cohort {self.root}; known subjects: {known}")
        return self._subjects[subject_id]

    def paths(self, subject_id: str) -> list[Path]:
        """Every file the subject's case would read (scans, masks, transform), as listed."""
        return [Path(path) for path in _file_map(self.files(subject_id)).values()]

    def load_case(self, subject_id: str) -> Case:
        """Load one subject's scans, masks and (when stored) true transform.

        Raises:
            CohortError: unknown subject id.
            VolumeLoadError: a scan cannot be read (the message names the file).
        """
        return _load_case(self.files(subject_id))

    @functools.cached_property
    def cases(self) -> list[Case]:
        """Every case, loaded (all scans in memory: prefer :meth:`load_case` for big cohorts)."""
        return list(self)

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """One row per subject: subject_id, has_ct, has_mr, mr_modality, label (Int64), site, masks, + metadata."""
        table = pd.DataFrame([_table_row(s) for s in self._subjects.values()])
        table["label"] = table["label"].astype("Int64")  # 0/1 with <NA> for unknown
        return table

    def __repr__(self) -> str:
        return f"Cohort({self.root}, {len(self)} subjects from {self.source})"


def load_cohort(root: str | Path) -> Cohort:
    """Find a cohort's subjects without loading any scan.

    Layouts (DESIGN.md): ``<root>/<subject_id>/ct.nii.gz mr.nii.gz [mask.nii.gz]`` (also .nii,
    .mha, .mhd, .nrrd; MR may be named mr/t1/t2/flair, and further weightings beside it, e.g.
    ``mr_t2.nii.gz``, go to ``Case.mr_weightings`` as ``"MR-T2"``; masks as ``mask*.nii.gz`` or ``masks/<name>.nii.gz``; a
    ``true_transform.tfm`` (SimpleITK, CT->MR physical points) becomes ``Case.true_transform``),
    or ``<root>/manifest.csv`` with columns subject_id, modality, path[, label, site] (paths
    relative to root) for unpaired or mixed cohorts; the manifest wins when both exist.
    An optional ``<root>/cohort.csv`` (subject_id, label, site, ...) adds labels and metadata.

    Raises:
        CohortError: missing root, no subjects, bad manifest or cohort.csv.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise CohortError(f"{root}: cohort folder does not exist" if not root.exists() else f"{root}: not a folder")
    if (root / MANIFEST_NAME).is_file():
        subjects, notes, source = read_manifest(root, root / MANIFEST_NAME), [], "manifest"
    else:
        (subjects, notes), source = scan_subject_folders(root), "folders"
    if not subjects:
        raise CohortError(
            f"{root}: no subjects found; expected <root>/<subject_id>/ct.nii.gz and/or mr.nii.gz, "
            f"or a {MANIFEST_NAME} (subject_id,modality,path)"
        )
    if (root / LABELS_NAME).is_file():
        notes += _merge_cohort_csv(root / LABELS_NAME, subjects)
    return Cohort(root, subjects, source=source, notes=notes)


def _merge_cohort_csv(path: Path, subjects: list[SubjectFiles]) -> list[str]:
    """Copy labels and metadata from cohort.csv onto the subjects; notes on ids not found."""
    table = read_csv(path, required=("subject_id",), optional=None)
    repeated = sorted(set(table["subject_id"][table["subject_id"].duplicated()]))
    if repeated:
        raise CohortError(f"{path}: subject ids listed more than once: {', '.join(repeated[:10])}")
    by_id = {s.subject_id: s for s in subjects}
    notes, problems = [], []
    for row in table.to_dict("records"):
        subject = by_id.get(row.pop("subject_id"))
        if subject is None:
            continue
        try:
            label = parse_label(row.pop("label", None))
        except ValueError as exc:
            problems.append(f"{subject.subject_id}: {exc}")
            continue
        subject.label = subject.label if label is None else label
        subject.meta.update({k: v for k, v in row.items() if v is not None})
    if problems:
        raise CohortError(f"{path}: {'; '.join(problems[:8])}")
    unmatched = sorted(set(table["subject_id"]) - set(by_id))
    if unmatched:
        notes.append(f"{path.name} lists {len(unmatched)} subjects with no scans: {', '.join(unmatched[:10])}")
    return notes


def _load_case(files: SubjectFiles) -> Case:
    notes: list[str] = []
    per_scan: dict[str, list[str]] = {}
    ct = _load(files.ct, "CT", notes, per_scan)
    mr = _load(files.mr, files.mr_modality, notes, per_scan)
    masks = {name: _load(path, "UNKNOWN", notes) for name, path in files.masks.items()}
    weightings = {modality: _load(path, modality, notes, per_scan) for path, modality in files.extra.values()}
    meta = {**files.meta, "files": _file_map(files), "load_notes": notes, SCAN_NOTES: per_scan}
    transform = _read_transform(files.transform) if files.transform else None
    return Case(
        files.subject_id,
        ct=ct,
        mr=mr,
        label=files.label,
        true_transform=transform,
        masks=masks,
        meta=meta,
        mr_weightings=weightings,
    )


def _load(path: Path | None, modality: str, notes: list[str], per_scan: dict[str, list[str]] | None = None):
    """The volume at ``path`` (None for None), with its notes recorded.

    Its notes are added to ``notes`` (prefixed by the file name) and, for a scan, to ``per_scan`` under
    its key ("CT", "MR-T1", ...).
    """
    if path is None:
        return None
    volume, volume_notes = load_volume_with_report(path, modality=modality)
    notes += [f"{path.name}: {note}" for note in volume_notes]
    if per_scan is not None:
        per_scan[scan_key(volume)] = list(volume_notes)
    return volume


def _read_transform(path: Path):
    try:
        return sitk.ReadTransform(str(path))
    except RuntimeError as exc:
        raise VolumeLoadError(path, "not a readable SimpleITK transform file") from exc


def _file_map(files: SubjectFiles) -> dict[str, str]:
    named = {"ct": files.ct, "mr": files.mr, "transform": files.transform}
    named.update({f"mask:{name}": path for name, path in files.masks.items()})
    named.update({key: path for key, (path, _) in files.extra.items()})
    return {role: str(path) for role, path in named.items() if path is not None}


def _table_row(files: SubjectFiles) -> dict[str, Any]:
    return {
        "subject_id": files.subject_id,
        "has_ct": files.ct is not None,
        "has_mr": files.mr is not None,
        "mr_modality": files.mr_modality if files.mr is not None else None,
        "mr_weightings": ", ".join(_weighting_names(files)),
        "label": files.label,
        "site": files.meta.get("site"),
        "masks": ",".join(sorted(files.masks)),
        **{k: v for k, v in files.meta.items() if k != "site"},
    }


def _weighting_names(files: SubjectFiles) -> list[str]:
    """The subject's MR weightings as ``Case.mr_weightings`` keys, e.g. ["MR-T1", "MR-T2"]."""
    primary = [weighting_key(files.mr_modality)] if files.mr is not None else []
    return primary + [modality for _, modality in files.extra.values()]
