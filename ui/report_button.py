"""The case report's download button, one implementation for every page that has results.

The report (:func:`fusion_core.report.report_html`) is built only when the button is clicked: the button's
data is a callable that Streamlit runs on the click (a deferred download), so drawing a page costs nothing.
"""

from __future__ import annotations

import functools
from typing import Any

import streamlit as st

from fusion_core.case import Case
from fusion_core.report import report_html
from ui.aligned import registered_result
from ui.register_widgets import RESULTS_KEY
from ui.session import active_case


def case_report_button(case: Case, *, label: str, key: str, container: Any = None, **options: Any) -> None:
    """A download button for the HTML report of ``case``, built on click.

    Args:
        case: the case as loaded.
        label: the button's text, saying what the report holds beyond the scans.
        key: the widget key (unique on the page).
        container: where to draw the button (a column); None: the page.
        **options: passed to :func:`fusion_core.report.build_case_report` (models, registration, source, ...).
    """
    (container or st).download_button(
        label,
        functools.partial(report_html, case, **options),
        file_name=f"{case.subject_id}_report.html",
        mime="text/html",
        on_click="ignore",
        key=key,
    )


def attention_report_button(model: str, method: str) -> None:
    """The Attention & Uncertainty page's report: the active case with ``model``'s probability, uncertainty
    and ``method``'s attribution maps, aligned as the page aligns it (the user's CT-fixed registration, else
    the known alignment)."""
    case = active_case()
    case_report_button(
        case,
        label=f"Case report (HTML: the scans, {model}'s probability, uncertainty and attribution maps)",
        key="att-dl-report",
        models=(model,),
        attribution_method=method,
        registration=registered_result(st.session_state.get(RESULTS_KEY, {}), case.fingerprint),
        register=False,
        source="Attention & Uncertainty page",
    )
