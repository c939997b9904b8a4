"""The one way a model page gets its CT/MR pair: the active case with every MR weighting on the CT grid.

Source of the alignment, in this order:

1. the user's registration on the Register & Fuse page, when they registered this very case with the
   CT fixed (the most recent such result). MR-fixed results are ignored: their transform maps MR
   points to CT points, and a B-spline one has no exact inverse; register with CT fixed to use yours;
2. the case's ground truth (the phantom's known misalignment), through ``Case.aligned()``;
3. otherwise the page says how to get an alignment, links to Register & Fuse, and stops.

The aligned case is cached per case and transform, so widgets do not resample again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import SimpleITK as sitk
import streamlit as st

from fusion_core.case import Case, transform_key
from fusion_core.errors import CaseError
from ui.cache_keys import RegistrationKey
from ui.register_widgets import RESULTS_KEY
from ui.scaffold import link_to_page
from ui.session import active_case

SOURCE_NOTES = {
    "given": "aligned by your registration (Register & Fuse, CT fixed)",
    "ground truth": "aligned by the phantom's ground truth (its known CT↔MR misalignment)",
    "already on the CT grid": "the MR already lies on the CT grid",
}


@dataclasses.dataclass(frozen=True)
class AlignedCase:
    """The active case aligned onto its CT grid, and how.

    Attributes:
        case: the aligned case (``case.meta["alignment"]`` records source and transform).
        source: "given" (the user's registration), "ground truth" or "already on the CT grid".
        note: the source in words, for the page ("aligned by your registration ...").
    """

    case: Case
    source: str
    note: str


def registered_transform(results: Mapping[RegistrationKey, Any], fingerprint: str) -> sitk.Transform | None:
    """The transform of the most recent CT-fixed registration of the case with ``fingerprint``, or None.

    Args:
        results: Register & Fuse results keyed by :class:`~ui.cache_keys.RegistrationKey`, oldest first.
        fingerprint: the case's :attr:`~fusion_core.case.Case.fingerprint`.
    """
    result = registered_result(results, fingerprint)
    return None if result is None else result.transform


def registered_result(results: Mapping[RegistrationKey, Any], fingerprint: str) -> Any:
    """The most recent CT-fixed ``RegistrationResult`` of the case with ``fingerprint`` (see
    :func:`registered_transform`), or None."""
    for key, result in reversed(list(results.items())):
        if key.fingerprint == fingerprint and key.fixed_name == "CT":
            return result
    return None


@st.cache_resource(max_entries=8, show_spinner="Putting the MR on the CT grid…")
def _aligned(fingerprint: str, transform_fingerprint: tuple, _case: Case, _transform: sitk.Transform | None) -> Case:
    """``_case.aligned(transform=_transform)``; ``_case`` is determined by ``fingerprint`` (the case's) and
    ``_transform`` by ``transform_fingerprint`` (``transform_key(_transform)``: its type and parameters)."""
    return _case.aligned(transform=_transform)


def aligned_active_case() -> AlignedCase:
    """The active case aligned onto its CT grid (see the module docstring); stops the page when impossible."""
    case = active_case()
    transform = registered_transform(st.session_state.get(RESULTS_KEY, {}), case.fingerprint)
    try:
        aligned = _aligned(case.fingerprint, transform_key(transform), case, transform)
    except CaseError as error:
        _explain_and_stop(case, error)
    source = aligned.meta["alignment"]["source"]
    return AlignedCase(aligned, source, SOURCE_NOTES[source])


def _explain_and_stop(case: Case, error: CaseError) -> None:
    if not case.is_paired:
        st.info(f"{error}. Pick a subject with both scans on the Data page.", icon=":material/info:")
        link_to_page("data.py")
    else:
        st.info(
            f"Subject {case.subject_id}: this page needs the MR on the CT grid, and no alignment is known. "
            "Register the MR to the CT first (CT fixed) on the Register & Fuse page, then come back.",
            icon=":material/join_inner:",
        )
        link_to_page("register_fuse.py", label="Register & Fuse: align the MR to the CT")
    st.stop()
