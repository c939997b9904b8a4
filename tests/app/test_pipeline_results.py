"""AppTest: the Data page opens a pipeline output folder; a row's link opens that subject on any page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from fusion_core.pipeline import PipelineConfig, run_pipeline

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180


@pytest.fixture(scope="module")
def pipeline_out(tmp_path_factory) -> Path:
    from fusion_core.data.export import cli

    base = tmp_path_factory.mktemp("pipeline-app")
    assert cli(["--out", str(base / "cohort"), "--n", "2", "--size", "20", "--seed", "1"]) == 0
    (base / "cohort" / "phantom-001" / "ct.nii.gz").write_bytes(b"broken")  # one failure to show
    config = PipelineConfig(
        steps=("register", "normalise"), registration={"multi_start_deg": 0.0, "iterations": 20}, tre_points=20
    )
    run_pipeline(base / "cohort", base / "out", config, workers=0, progress=False)
    return base / "out"


def test_data_page_shows_the_cohort_table_and_opens_a_subject(pipeline_out):
    app = AppTest.from_file(str(ROOT / "pages/data.py"), default_timeout=TIMEOUT)
    app.run()
    app.text_input(key="pipeline-folder").set_value(str(pipeline_out)).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    table = next(d.value for d in app.dataframe if "tre_median_mm" in d.value.columns)
    assert list(table["subject_id"]) == ["phantom-000", "phantom-001"]
    assert list(table["status"]) == ["done", "failed"]
    assert table["open"].iloc[0].startswith("./register_fuse?pipeline=") and pd.isna(table["open"].iloc[1])
    assert any("1 failed" in m.value for m in app.markdown)
    app.text_input(key="pipeline-filter").set_value("000").run()
    table = next(d.value for d in app.dataframe if "tre_median_mm" in d.value.columns)
    assert list(table["subject_id"]) == ["phantom-000"]
    (link,) = app.get("link_button")
    assert link.proto.url.endswith("subject=phantom-000")


def test_a_link_opens_the_registered_subject(pipeline_out):
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    app.query_params["pipeline"] = str(pipeline_out)
    app.query_params["subject"] = "phantom-000"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    case = app.session_state["active_case"]
    assert case.subject_id == "phantom-000" and case.mr.same_grid(case.ct)  # the MR registered onto the CT grid
    assert case.meta["pipeline_output"] == str(pipeline_out)
