"""Cached loaders for the pages. Errors from fusion_core pass through unchanged (pages show them)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from fusion_core.case import Case
from fusion_core.io import Cohort, load_upload, open_path
from fusion_core.volume import Volume

UPLOAD_TYPES = ["nii", "gz", "mha", "mhd", "nrrd", "dcm", "zip"]


@st.cache_resource(show_spinner="Reading…", max_entries=4)
def opened_path(path: str) -> Cohort | Case:
    """A cohort folder (scans read lazily, per case), or one scan file / DICOM series folder as a case."""
    return open_path(path)


@st.cache_resource(show_spinner="Loading scans…", max_entries=8)
def cohort_case(root: str, subject_id: str) -> Case:
    return opened_path(root).load_case(subject_id)


@st.cache_data(show_spinner="Reading the uploaded file…", max_entries=8)
def uploaded_volume(filename: str, data: bytes, modality: str | None) -> tuple[Volume, list[str]]:
    """Load one uploaded file (or zip of a DICOM series) into a Volume plus notes on what was done."""
    with tempfile.TemporaryDirectory(prefix="fusion-upload-") as workdir:
        return load_upload(filename, data, Path(workdir), modality=modality)
