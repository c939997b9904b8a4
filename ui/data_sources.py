"""The Data page's sources (demo cohort, a folder on this machine, uploads) and its view of the chosen case.

Each source function reads its widgets and returns a :class:`~fusion_core.case.Case` (or None while the
user has not chosen yet); loading errors (``VolumeLoadError``, ``CohortError``, ``CaseError``) propagate to
the page boundary, whose message names the file.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from fusion_core.case import Case, case_from_volumes, scan_notes
from fusion_core.viz.views import metadata_row
from ui import loaders, session
from ui.viewer import tri_planar

SOURCES = ("Demo cohort", "Folder on this machine", "Upload files")


def demo_case() -> Case | None:
    """A subject of the demo cohort, picked by id (with its scanner site)."""
    ids = session.demo_subject_ids()
    chosen = st.selectbox(
        "Subject",
        ids,
        format_func=lambda sid: f"{sid} · scanner site {session.demo_site(sid)}",
        key="data-demo-subject",
    )
    return session.demo_case(chosen)


def folder_case() -> Case | None:
    """A case from a folder or file on this machine: a cohort (pick a subject), one scan or a DICOM series."""
    root = st.text_input(
        "Cohort folder, scan file or DICOM series folder",
        key="data-folder",
        placeholder="/path/to/cohort — <subject>/ct.nii.gz + mr.nii.gz, or a manifest.csv",
    )
    st.caption(loaders.roots_caption())
    if not root:
        st.info(
            "Type the path of a SynthRAD-style cohort folder (one sub-folder per subject), of a folder "
            "holding a `manifest.csv`, of one scan file, or of a folder holding a DICOM series."
        )
        return None
    opened = loaders.opened_path(root.strip())
    if isinstance(opened, Case):
        case = opened
    else:
        for note in opened.notes:
            st.caption(f":material/info: {note}")
        st.dataframe(opened.table, hide_index=True, height=180)
        subject = st.selectbox("Subject", opened.subject_ids, key="data-folder-subject")
        case = loaders.cohort_case(root.strip(), subject)
    for note in case.meta.get("load_notes", []):
        st.caption(f":material/info: {note}")
    return case


def upload_case() -> Case | None:
    """A case from uploaded scans (or the scans uploaded earlier in this session), modality per file."""
    files = st.file_uploader(
        "Scans: NIfTI (.nii/.nii.gz), MetaImage (.mha/.mhd), NRRD, one DICOM file, or a .zip of a DICOM series",
        type=loaders.UPLOAD_TYPES,
        accept_multiple_files=True,
        key="data-upload",
    )
    if not files:
        earlier = session.active_case()
        if earlier.meta.get("uploaded_files"):  # e.g. after a browser reload: the scans are still loaded
            names = ", ".join(earlier.meta["uploaded_files"])
            st.info(f"Showing the scans you uploaded earlier ({names}). Upload files to replace them.")
            return earlier
        st.info(
            "Upload one CT and/or one MR scan (or MR T1 and T2). Modality is read from DICOM tags, else guessed "
            "(CT has air near −1000 HU); you can set it below."
        )
        return None
    volumes, upload_notes = {}, {}
    for file in files:
        modality = st.selectbox(
            f"Modality of {file.name}", ["auto", "CT", "MR-T1", "MR-T2"], key=f"data-mod-{file.name}"
        )
        volume, notes = loaders.uploaded_volume(
            file.name, file.file_id, None if modality == "auto" else modality, file.getvalue()
        )
        for note in notes:
            st.caption(f":material/info: {file.name}: {note}")
        volumes[file.name], upload_notes[file.name] = volume, notes
    # two scans of one kind: a CaseError naming both
    case = case_from_volumes("upload", volumes, notes=upload_notes)
    case.meta["uploaded_files"] = list(volumes)
    return case


def choose_case() -> Case | None:
    """The source radio, then that source's widgets: the chosen case, or None."""
    source = st.radio("Source", SOURCES, horizontal=True, key="data-source")
    return {SOURCES[0]: demo_case, SOURCES[1]: folder_case, SOURCES[2]: upload_case}[source]()


def show_case(case: Case) -> None:
    """Heading, ground truth, metadata table and the linked tri-planar viewer of the case's CT and/or MR."""
    volumes = {name: vol for name, vol in (("CT", case.ct), ("MR", case.mr)) if vol is not None}
    if not volumes:
        st.warning("This subject has no readable CT or MR scan.")
        return
    kind = "Paired CT and MR" if case.is_paired else f"{' and '.join(volumes)} only (unpaired)"
    st.subheader(f"{case.subject_id}: {kind}")
    if case.label is not None:
        lesion = case.meta.get("lesion_type", "lesion") if case.label else None
        st.markdown(f"Ground truth: **{f'{lesion} lesion' if lesion else 'no lesion'}**")
    rows = [metadata_row(v, scan_notes(case, k)) | {"scan": k} for k, v in volumes.items()]
    st.dataframe(pd.DataFrame(rows).set_index("scan"))
    if case.is_paired and case.true_transform is not None:
        st.caption(
            "The demo MR was acquired with a known head movement relative to the CT: the same physical "
            "position shows slightly different anatomy until the scans are registered."
        )
    overlays = {"CT": case.masks["lesion"]} if "lesion" in case.masks and case.ct is not None else None
    if overlays and st.toggle("Outline the lesion (ground truth) on CT", value=False, key="data-overlay"):
        tri_planar(volumes, key="data-view", overlays=overlays)
    else:
        tri_planar(volumes, key="data-view")
