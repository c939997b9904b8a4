"""Cached loaders for the pages. Errors from fusion_core pass through unchanged (pages show them).

Server folders: a typed path is resolved and checked against the data roots before anything is read
(``fusion_core.io.roots``). Uploads: read in a temporary folder that is removed as soon as the file is
read (so nothing of a session outlives it), under a fixed name, with the size limit checked first.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from fusion_core.case import Case
from fusion_core.io import Cohort, check_inside_roots, data_roots, load_upload, open_path
from fusion_core.io.roots import is_local_address
from fusion_core.volume import Volume

UPLOAD_TYPES = ["nii", "gz", "mha", "mhd", "nrrd", "dcm", "zip"]


def allowed_roots() -> list[Path]:
    """The folders a visitor may open: ``$FUSION_DATA_ROOTS``, else data/ (+ home when serving on localhost)."""
    return data_roots(local_only=is_local_address(st.get_option("server.address")))


def roots_caption() -> str:
    return "Readable folders on this server: " + ", ".join(f"`{root}`" for root in allowed_roots())


def opened_path(path: str) -> Cohort | Case:
    """A cohort folder (scans read lazily, per case), or one scan file / DICOM series folder as a case.

    Raises:
        PathNotAllowedError: the path (symlinks and ``..`` resolved) lies outside the data roots.
    """
    return _opened(str(check_inside_roots(path, allowed_roots())))


def cohort_case(root: str, subject_id: str) -> Case:
    """One subject of the cohort at ``root``; every file it reads must lie under the data roots too."""
    cohort = opened_path(root)
    roots = allowed_roots()
    for path in cohort.paths(subject_id):
        check_inside_roots(path, roots)  # a symlink inside the cohort may point anywhere
    return _cohort_case(str(cohort.root), subject_id)


@st.cache_resource(show_spinner="Reading…", max_entries=4)
def _opened(resolved: str) -> Cohort | Case:
    return open_path(resolved)


@st.cache_resource(show_spinner="Loading scans…", max_entries=8)
def _cohort_case(resolved_root: str, subject_id: str) -> Case:
    return _opened(resolved_root).load_case(subject_id)


@st.cache_resource(show_spinner="Reading the uploaded file…", max_entries=4, scope="session")
def uploaded_volume(filename: str, upload_key: str, modality: str | None, _data: bytes) -> tuple[Volume, list[str]]:
    """Load one uploaded file (or zip of a DICOM series) into a Volume plus notes on what was done.

    Cached per session, on ``upload_key``: the upload's ``file_id``, unique per upload, so it determines
    ``_data`` (the bytes are not hashed on every rerun). An upload is never shared with another user, and its
    memory goes when the session ends.
    """
    with tempfile.TemporaryDirectory(prefix="fusion-upload-") as workdir:
        return load_upload(filename, _data, Path(workdir), modality=modality)
