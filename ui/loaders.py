"""Cached loaders for the pages. Errors from fusion_core pass through unchanged (pages show them)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from fusion_core.case import Case
from fusion_core.io import Cohort, load_cohort, load_upload
from fusion_core.volume import Volume

UPLOAD_TYPES = ["nii", "gz", "mha", "mhd", "nrrd", "dcm", "zip"]


@st.cache_resource(show_spinner="Reading the cohort folder…", max_entries=4)
def folder_cohort(root: str) -> Cohort:
    """The cohort under ``root`` (scans are read lazily, per case)."""
    return load_cohort(root)


@st.cache_resource(show_spinner="Loading scans…", max_entries=8)
def folder_case(root: str, subject_id: str) -> Case:
    return folder_cohort(root).load_case(subject_id)


@st.cache_data(show_spinner="Reading the uploaded file…", max_entries=8)
def uploaded_volume(filename: str, data: bytes, modality: str | None) -> tuple[Volume, list[str]]:
    """Load one uploaded file (or zip of a DICOM series) into a Volume plus notes on what was done."""
    with tempfile.TemporaryDirectory(prefix="fusion-upload-") as workdir:
        return load_upload(filename, data, Path(workdir), modality=modality)
