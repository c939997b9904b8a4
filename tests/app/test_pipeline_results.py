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


@pytest.fixture(autouse=True)
def readable_roots(pipeline_out, monkeypatch):
    """The pipeline's folders are the server's data roots (folders outside them are refused)."""
    monkeypatch.setenv("FUSION_DATA_ROOTS", str(pipeline_out.parent))


def test_a_pipeline_folder_outside_the_data_roots_is_refused(pipeline_out, monkeypatch, tmp_path):
    monkeypatch.setenv("FUSION_DATA_ROOTS", str(tmp_path))
    app = AppTest.from_file(str(ROOT / "pages/data.py"), default_timeout=TIMEOUT)
    app.run()
    app.text_input(key="pipeline-folder").set_value(str(pipeline_out)).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("outside" in e.value or "Readable" in e.value for e in app.error), [e.value for e in app.error]
    assert not any("tre_median_mm" in d.value.columns for d in app.dataframe)


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


@pytest.fixture(scope="module")
def encoded_out(pipeline_out) -> Path:
    """A pipeline run whose encode step stored vae-poe latents (inside the data roots)."""
    from fusion_core.data.export import cli

    base = pipeline_out.parent
    assert cli(["--out", str(base / "cohort2"), "--n", "2", "--size", "20", "--seed", "2"]) == 0
    config = PipelineConfig(steps=("encode",), encoders=("vae-poe",))
    run_pipeline(base / "cohort2", base / "encoded", config, workers=0, progress=False)
    return base / "encoded"


def test_latent_space_page_opens_a_pipeline_runs_latents(encoded_out):
    from fusion_core.pipeline import read_pipeline_latents

    app = AppTest.from_file(str(ROOT / "pages/latents.py"), default_timeout=TIMEOUT)
    app.session_state["lat-method"] = "PCA"
    app.run()
    app.radio(key="lat-source").set_value("Pipeline run").run()
    app.text_input(key="lat-folder").input(str(encoded_out)).run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    stored = read_pipeline_latents(encoded_out, "vae-poe", slice_step=4)  # the page's default: every 4th slice
    assert any(c.value.startswith(f"{len(stored.meta)} slices (") for c in app.caption)
    assert any("stored joint codes only" in c.value for c in app.caption)  # nothing was encoded again
