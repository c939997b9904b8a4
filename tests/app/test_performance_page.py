"""AppTest of the Fusion Performance page on the shipped scores files: it runs, toggles, re-thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fusion_core.evaluation import scores_dirs
from ui.performance import ASSETS_DIR, scores_fingerprint

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120

pytestmark = pytest.mark.skipif(not scores_dirs(ASSETS_DIR), reason="no classifier ships scores.csv")


def _run() -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / "performance.py"), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    return app


def _chart(app: AppTest, index: int = 0) -> dict:
    return json.loads(app.get("plotly_chart")[index].proto.spec)


def _curve_names(app: AppTest) -> list[str]:
    return [t["name"] for t in _chart(app)["data"] if " — AUC " in t.get("name", "")]


def test_assets_dir_is_the_registrys():
    from fusion_core.inference.registry import ASSETS_DIR as REGISTRY_ASSETS

    assert ASSETS_DIR == REGISTRY_ASSETS


def test_page_shows_every_section_from_the_shipped_scores():
    app = _run()
    assert app.title[0].value == "Fusion Performance"
    assert [s.value for s in app.subheader] == [
        "ROC curves and the independence bound",
        "The clinicians' table",
        "The bound per lesion type",
        "With a modality missing",
        "Calibration",
        "Under domain shift",
    ]
    names = _curve_names(app)
    n = len(scores_fingerprint())  # the shipped classifiers, and the classical baseline when computed
    assert len(names) == n + 2  # every strategy, the bound and chance
    assert any(name.startswith("Independence bound — AUC") for name in names)
    table = app.dataframe[0].value
    assert len(table) == n and table["Youden"].all()
    assert app.get("download_button")
    missing = _chart(app, 1)
    assert [t["name"] for t in missing["data"]] == ["CT and MR", "CT only (MR missing)", "MR only (CT missing)"]
    assert any("zero image" in m.value for m in app.markdown)
    assert any("cross-fitting" in c.value for c in app.caption)


def test_toggling_strategies_changes_the_roc_traces():
    app = _run()
    everything = _curve_names(app)
    keep = app.multiselect(key="perf-strategies").value[:2]
    app.multiselect(key="perf-strategies").set_value(keep).run()
    assert not app.exception
    names = _curve_names(app)
    assert len(names) == 2 + 2 and len(everything) > len(names)
    assert [n.split(" — ")[0] for n in names[:2]] == keep
    assert len(app.dataframe[0].value) == 2


def test_a_threshold_changes_the_table_but_not_the_auc():
    app = _run()
    youden = app.dataframe[0].value
    app.radio(key="perf-rule").set_value("One threshold for all").run()
    app.slider(key="perf-threshold").set_value(0.9).run()
    assert not app.exception
    fixed = app.dataframe[0].value
    assert (fixed["Threshold"] == 0.9).all() and not fixed["Youden"].any()
    assert (fixed["AUC"] == youden["AUC"]).all()
    assert (fixed["Recall (sensitivity)"] != youden["Recall (sensitivity)"]).any()


def test_no_strategy_chosen_says_so():
    app = _run()
    app.multiselect(key="perf-strategies").set_value([]).run()
    assert not app.exception
    assert any("at least one strategy" in i.value for i in app.info)


def test_domain_shift_waits_for_the_button():
    app = _run()
    # nothing scored on first paint: the ROC, missing-modality and reliability charts only
    assert [json.loads(c.proto.spec)["layout"]["yaxis"]["title"]["text"] for c in app.get("plotly_chart")] == [
        "True positive rate (sensitivity)",
        "Subject-level AUC (95 % CI)",
        "Observed fraction with a lesion",
    ]
    assert app.button(key="perf-shift-run")
    assert any("Score this setting" in i.value for i in app.info)
    app.slider(key="perf-shift-blur").set_value(1.0).run()
    assert not app.exception and not app.error


@pytest.mark.slow
def test_scoring_a_shift_draws_the_shift_chart():
    app = _run()
    app.multiselect(key="perf-shift-strategies").set_value(["clf-ct"]).run()
    app.select_slider(key="perf-shift-n").set_value(10).run()
    app.slider(key="perf-shift-blur").set_value(2.0).run()
    app.button(key="perf-shift-run").click().run(timeout=300)
    assert not app.exception and not app.error
    shift = _chart(app, -1)
    assert shift["data"][0]["name"] == "No shift (same subjects)"
    assert "CT shifted: blur +2.00 mm" in shift["data"][1]["name"]
    assert shift["data"][0]["x"] == ["CT alone"]


def test_uncertainty_weights_move_away_from_a_degraded_scan():
    app = _run()
    charts = len(app.get("plotly_chart"))
    app.toggle(key="perf-weights").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.get("plotly_chart")) == charts + 1
    assert any("with the MR missing its weight is 0.00" in c.value for c in app.caption)
