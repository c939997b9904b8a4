"""Session state shared by pages: which case is active. Defaults to the demo cohort's first subject."""

from __future__ import annotations

import streamlit as st

from fusion_core.case import Case

DEMO_SPEC = "demo"  # fusion_core.data.cohorts: the distribution the shipped models are trained for
_ACTIVE_KEY = "active_case"


def demo_spec():
    from fusion_core.data.cohorts import get_cohort_spec

    return get_cohort_spec(DEMO_SPEC)


def demo_subject_ids() -> list[str]:
    """Ids of the demo cohort, e.g. "phantom-000"; subjects are built only when asked for."""
    return demo_spec().subject_ids()


def demo_site(subject_id: str) -> str:
    return demo_spec().site(demo_subject_ids().index(subject_id))


@st.cache_resource(show_spinner="Generating the demo subject…", max_entries=32)
def demo_case(subject_id: str) -> Case:
    """One demo subject as a case (cached per server process; never mutated); its meta names the spec."""
    spec = demo_spec()
    case = spec.subject(demo_subject_ids().index(subject_id)).to_case()
    case.meta["cohort_spec"] = spec.name
    return case


def active_case() -> Case:
    """The case the user picked on the Data page, or the first demo subject."""
    case = st.session_state.get(_ACTIVE_KEY)
    if case is None:
        case = demo_case(demo_subject_ids()[0])
        st.session_state[_ACTIVE_KEY] = case
    return case


def set_active_case(case: Case) -> None:
    st.session_state[_ACTIVE_KEY] = case
