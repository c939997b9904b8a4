"""Open whatever a user points at: a cohort folder, one scan file, or a folder holding one DICOM series."""

from __future__ import annotations

from pathlib import Path

from fusion_core.case import SCAN_NOTES, Case, scan_key
from fusion_core.io.cohort import LABELS_NAME, MANIFEST_NAME, Cohort, load_cohort
from fusion_core.io.errors import CohortError, VolumeLoadError
from fusion_core.io.readers import load_volume_with_report


def open_path(path: str | Path) -> Cohort | Case:
    """A cohort when ``path`` is laid out as one, else a one-scan case.

    Args:
        path: a cohort folder (SynthRAD layout or ``manifest.csv``), an image file, or a folder
            holding a DICOM series.

    Returns:
        A :class:`Cohort`, or a :class:`Case` holding the single scan as its CT or MR (by the
        modality read from the file or guessed; notes in ``case.meta["load_notes"]``).

    Raises:
        CohortError: ``path`` is neither a cohort nor a readable scan; the message gives both reasons.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise CohortError(f"{path}: no such file or folder")
    if path.is_dir():
        try:
            return load_cohort(path)
        except CohortError as cohort_error:
            if any((path / name).is_file() for name in (MANIFEST_NAME, LABELS_NAME)):
                raise  # the folder says it is a cohort: its error, not a guess at one scan inside
            return _single_scan(path, cohort_error)
    return _single_scan(path, None)


def _single_scan(path: Path, cohort_error: CohortError | None) -> Case:
    try:
        volume, notes = load_volume_with_report(path)
    except VolumeLoadError as scan_error:
        if cohort_error is None:
            raise
        raise CohortError(f"{path} is neither a cohort ({cohort_error}) nor a readable scan ({scan_error})") from None
    slot = "ct" if volume.modality == "CT" else "mr"
    meta = {"load_notes": notes, SCAN_NOTES: {scan_key(volume): list(notes)}, "files": {slot: str(path)}}
    return Case(subject_id=path.name, **{slot: volume}, meta=meta)
