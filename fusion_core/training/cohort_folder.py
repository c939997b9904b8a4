"""A cohort folder as a training source, beside the phantom: real scans in the SynthRAD layout.

``SliceDataConfig(cohort_dir=DIR)`` slices the subjects of ``fusion_core.io.load_cohort(DIR)``
(labels from ``cohort.csv``) exactly as it slices phantom subjects: each case is aligned onto its CT
grid (``Case.aligned()``: its true transform, or already on the grid, as in a folder the pipeline
registered) and handed to the same slicing code. The folder's content digest enters the slice
table's cache key and the model card. A ``split`` column in ``cohort.csv`` (train / val / test for
every subject) decides the split; without one the subjects are split by ``split_fractions``. A
folder the project made says how in ``provenance.json`` (e.g. pseudo-pairs: which spec, unpaired).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fusion_core.data.cohorts import CohortSpec
from fusion_core.io import load_cohort
from fusion_core.pipeline.files import file_digest
from fusion_core.volume import Volume


@dataclasses.dataclass
class FolderSubject:
    """One aligned case of a cohort folder, shaped like a phantom subject for the slicing code.

    Attributes mirror :class:`~fusion_core.data.phantom.PhantomSubject`: ``mr``/``mr_t2`` already lie on
    the CT grid, so ``true_transform`` is None.
    """

    subject_id: str
    ct: Volume | None
    mr: Volume | None
    mr_t2: Volume | None
    label: int
    masks: dict[str, Volume]
    meta: dict[str, Any]
    true_transform: Any = None


def folder_subject(case) -> FolderSubject:
    """A loaded case as a FolderSubject (paired cases aligned onto the CT grid first)."""
    aligned = case.aligned() if case.is_paired else case
    return FolderSubject(
        subject_id=aligned.subject_id,
        ct=aligned.ct,
        mr=aligned.mr_weightings.get("MR-T1", aligned.mr),
        mr_t2=aligned.mr_weightings.get("MR-T2"),
        label=int(aligned.label or 0),
        masks=dict(aligned.masks),
        meta={**aligned.meta, "lesion_type": aligned.meta.get("lesion_type", "none")},
    )


def iter_folder_subjects(root: str | Path) -> Iterator[FolderSubject]:
    """The subjects of a cohort folder, loaded one at a time, in the folder's order."""
    for case in load_cohort(root):
        yield folder_subject(case)


def folder_digest(root: str | Path) -> str:
    """Digest of a cohort folder's content (every file's relative path and bytes).

    A card names it, and the slice-table cache is keyed on it. Cached per (path, sizes, modification
    times).
    """
    root = Path(root).expanduser().resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    stamp = tuple((p.relative_to(root).as_posix(), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _content_digest(str(root), stamp)


@functools.lru_cache(maxsize=16)
def _content_digest(root: str, stamp: tuple) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for name, _, _ in stamp:
        digest.update(f"{name}:{file_digest(Path(root) / name)}\n".encode())
    return digest.hexdigest()


def folder_spec(root: str | Path, split_fractions: tuple[float, float, float]):
    """A CohortSpec describing the folder (name, size, split fractions) for cards and split counts."""
    root = Path(root).expanduser().resolve()
    return CohortSpec(
        name=f"folder:{root.name}",
        n=len(load_cohort(root)),
        seed=0,
        description=f"cohort folder {root} (content digest {folder_digest(root)})",
        split_fractions=tuple(split_fractions),
    )


def folder_record(root: str | Path) -> dict[str, Any]:
    """What a model card says about a folder it was trained on: its path, content digest and provenance."""
    root = Path(root).expanduser().resolve()
    record: dict[str, Any] = {"folder": str(root), "digest": folder_digest(root)}
    made = folder_provenance(root)
    return record | {"provenance": made} if made else record


#: A folder the project made (e.g. pseudo-pairs) says how in this file; its ``training_data`` is
#: "paired" or "unpaired" (whether each subject's CT and MR came from one person).
PROVENANCE_FILE = "provenance.json"


def folder_provenance(root: str | Path) -> dict[str, Any]:
    """The folder's ``provenance.json`` ({} when it has none: scans as acquired)."""
    path = Path(root) / PROVENANCE_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def folder_training_data(root: str | Path) -> str:
    """The folder's training data: "unpaired" when its provenance says so (CT and MR of different people).

    Else "paired".
    """
    return str(folder_provenance(root).get("training_data", "paired"))
