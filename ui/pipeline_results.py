"""Streamlit glue for a batch-pipeline output folder: its cohort table on the Data page, and links that open
one subject on any page (``?pipeline=<folder>&subject=<id>``, applied by :func:`apply_pipeline_link`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from fusion_core.errors import FusionError
from fusion_core.io import check_inside_roots
from fusion_core.pipeline.results import (
    PipelineResults,
    PipelineResultsError,
    is_pipeline_output,
    read_pipeline_results,
)
from ui import loaders, session

QUERY_FOLDER, QUERY_SUBJECT = "pipeline", "subject"
LINK_PAGE = "register_fuse"  # where a row's link opens the subject (any page works: the link sets the active case)
_APPLIED_KEY = "pipeline-link-applied"


def folder_fingerprint(root: str) -> tuple[str, int]:
    """(folder, mtime of its summary): what the cached table depends on (a new run rewrites the summary).

    Raises:
        PathNotAllowedError: the folder (symlinks and ``..`` resolved) lies outside the data roots.
    """
    folder = check_inside_roots(Path(root).expanduser(), loaders.allowed_roots())
    summary = folder / "summary.json"
    return str(folder), summary.stat().st_mtime_ns if summary.is_file() else 0


@st.cache_data(show_spinner="Reading the pipeline's results…", max_entries=4)
def cached_results(fingerprint: tuple[str, int]) -> PipelineResults:
    return read_pipeline_results(fingerprint[0])


def subject_link(root: str, subject_id: str, page: str = LINK_PAGE) -> str:
    """Relative URL opening ``subject_id`` of a pipeline output folder on ``page``."""
    return f"./{page}?{urlencode({QUERY_FOLDER: root, QUERY_SUBJECT: subject_id})}"


def linked_table(results: PipelineResults) -> pd.DataFrame:
    """The cohort table with an "open" column: a link per processed subject (None for failed ones)."""
    table = results.table.copy()
    root = str(results.root)
    links = [
        None if status == "failed" else subject_link(root, sid)
        for sid, status in zip(table["subject_id"], table["status"], strict=True)
    ]
    table.insert(1, "open", links)
    return table


def filtered(table: pd.DataFrame, *, statuses: list[str], text: str) -> pd.DataFrame:
    """Rows whose status is among ``statuses`` and whose subject id, site or lesion type contains ``text``."""
    keep = table["status"].isin(statuses)
    if text:
        columns = [c for c in ("subject_id", "site", "lesion_type") if c in table.columns]
        found = [table[c].map(lambda v: text.lower() in str(v).lower() if pd.notna(v) else False) for c in columns]
        keep &= pd.concat(found, axis=1).any(axis=1)
    return table[keep]


LABELS = {
    "tre_before_median_mm": ("TRE before (mm)", "Median target registration error of the scans as acquired"),
    "tre_median_mm": ("TRE after (mm)", "Median target registration error after registration (true transform known)"),
    "tre_max_mm": ("TRE after, max (mm)", "Largest target registration error after registration"),
    "mi_before": ("MI before", "Mutual information of CT and MR inside the head, as acquired"),
    "mi_after": ("MI after", "Mutual information of CT and MR inside the head, after registration"),
}


def column_labels(columns) -> dict:
    """Streamlit column configs: the link column, readable names for registration metrics, 3 decimals."""
    config = {
        "open": st.column_config.LinkColumn(
            "open", display_text="open ↗", help="This subject (registered MR on the CT grid) on the other pages"
        )
    }
    for column in columns:
        if column in LABELS:
            label, help_text = LABELS[column]
            config[column] = st.column_config.NumberColumn(label, help=help_text, format="%.2f")
        elif column.endswith((".score", ".uncertainty")):
            config[column] = st.column_config.NumberColumn(format="%.3f", help="Lesion probability (and its sd)")
    return config


def show_results(root: str) -> PipelineResults:
    """Summary line, failures, a filterable sortable table (a link per row) and an "open" picker."""
    results = cached_results(folder_fingerprint(root))
    summary = results.summary
    st.markdown(
        f"**{summary.get('n_subjects', len(results.table))} subjects** from `{results.cohort_root}`: "
        f"{summary.get('n_done', 0)} processed in the last run, {summary.get('n_skipped', 0)} already current, "
        f"**{summary.get('n_failed', 0)} failed**. Steps: {', '.join(summary.get('settings', {}).get('steps', []))}."
    )
    if results.failures:
        with st.expander(f"{len(results.failures)} failed subjects and why"):
            st.dataframe(pd.DataFrame(results.failures.items(), columns=["subject", "reason"]), hide_index=True)
    table = linked_table(results)
    c1, c2 = st.columns([1, 2])
    statuses = c1.multiselect(
        "Status", sorted(table["status"].unique()), default=sorted(table["status"].unique()), key="pipeline-status"
    )
    text = c2.text_input("Filter by subject, site or lesion type", key="pipeline-filter")
    st.dataframe(
        filtered(table, statuses=statuses, text=text),
        hide_index=True,
        column_config=column_labels(table.columns),
        key="pipeline-table",
    )
    st.caption(
        "Click a column header to sort. TRE: target registration error (mm) against the known transform; MI: "
        "mutual information of CT and MR before/after registration; <model>.<CT|MR>.mae/psnr_db/ssim/bone_dice: "
        "generated against real scan inside the head; <classifier>.score: lesion probability."
    )
    return results


def open_subject_picker(results: PipelineResults) -> None:
    """Pick a processed subject and open it (registered) on a chosen page, through the same link as the table."""
    done = results.table.loc[results.table["status"] != "failed", "subject_id"].tolist()
    if not done:
        return
    c1, c2 = st.columns([2, 1])
    chosen = c1.selectbox("Subject to open on the other pages", done, key="pipeline-subject")
    c2.link_button("Open it on Register & Fuse ↗", subject_link(str(results.root), chosen), width="stretch")


def activate(root: str, subject_id: str) -> None:
    """Make a pipeline subject (CT, MR on the CT grid, masks) the active case."""
    case = loaders.cohort_case(root, subject_id)
    case.meta.setdefault("pipeline_output", root)
    session.set_active_case(case)
    st.session_state[_APPLIED_KEY] = (root, subject_id)


def apply_pipeline_link() -> None:
    """When the URL carries ``?pipeline=<folder>&subject=<id>``, make that subject the active case (once)."""
    root, subject_id = st.query_params.get(QUERY_FOLDER), st.query_params.get(QUERY_SUBJECT)
    if not root or not subject_id or st.session_state.get(_APPLIED_KEY) == (root, subject_id):
        return
    try:
        folder_fingerprint(root)  # refuses a folder outside the data roots before anything is read
        if not is_pipeline_output(root):
            st.warning(f"The link names {root}, which is not a pipeline output folder: showing the previous case.")
            return
        activate(root, subject_id)
    except FusionError as error:  # a removed subject: say so, and let the page show the previous case
        st.warning(f"Could not open {subject_id} from {root}: {error}")


def section() -> None:
    """The Data page's "Pipeline results" expander: open an output folder of ``python -m fusion_core.pipeline``."""
    with st.expander(
        "Pipeline results: a cohort processed by `python -m fusion_core.pipeline`",
        expanded=bool(st.session_state.get("pipeline-folder")),
    ):
        root = st.text_input("Pipeline output folder", key="pipeline-folder", placeholder="/path/to/pipeline/out")
        if not root:
            st.caption(
                "Type the --out folder of a pipeline run to see its cohort table (every metric, sortable and filterable)."
            )
            return
        try:
            results = show_results(root.strip())
        except FusionError as error:  # outside the data roots, not a pipeline folder: this section only
            st.error(str(error))
            return
        open_subject_picker(results)


@st.cache_data(show_spinner="Evaluating the pipeline's scores…", max_entries=4)
def pipeline_evaluations(fingerprint: tuple[str, int]):
    """ROC, AUC (bootstrap CI) and the clinicians' table of each classifier the pipeline ran (complete input)."""
    from fusion_core.evaluation import scores_dirs
    from fusion_core.evaluation.comparison import evaluate_strategies
    from fusion_core.evaluation.strategies import load_strategy_scores

    results = cached_results(fingerprint)
    dirs = scores_dirs(results.scores_root)
    if not dirs:
        raise PipelineResultsError(f"{results.root}: the run wrote no scores (add the classify step; labels needed)")
    return evaluate_strategies(load_strategy_scores(dirs), n_boot=200)


def performance_section() -> None:
    """The Fusion Performance page's "From a pipeline run" expander: ROC and table of a processed cohort."""
    from fusion_core.viz.roc import roc_figure
    from ui.performance import clinicians_table

    with st.expander(
        "From a pipeline run: the same curves on your own cohort", expanded=bool(st.session_state.get("perf-pipeline"))
    ):
        root = st.text_input("Pipeline output folder", key="perf-pipeline", placeholder="/path/to/pipeline/out")
        if not root:
            st.caption(
                "The --out folder of `python -m fusion_core.pipeline ... --steps ...,classify` on a labelled cohort."
            )
            return
        try:
            evaluated = pipeline_evaluations(folder_fingerprint(root.strip()))
        except FusionError as error:  # this section's problem only: the rest of the page stays
            st.error(str(error))
            return
        st.plotly_chart(roc_figure(evaluated), key="perf-pipeline-roc")
        st.dataframe(clinicians_table(evaluated), key="perf-pipeline-table")
        positives, negatives = evaluated[0].roc.auc.n_pos, evaluated[0].roc.auc.n_neg
        st.caption(
            f"{positives} subjects with a lesion and {negatives} without (labels from cohort.csv); AUC intervals: "
            "200 bootstrap resamples."
        )
        if min(positives, negatives) < 10:
            st.warning("Fewer than 10 subjects in a class: the AUC and its interval say little about the model.")
