"""AppTest of the download buttons that build their file on click (deferred downloads): the Data page's case
report and the Generation page's DICOM series.

AppTest does not fetch a deferred download's file (its runtime is replaced after each run, and the browser's
request for the file is what runs the builder). So the tests record the builder each button registers with
Streamlit's media file manager, keyed by the button's element id, and run it as Streamlit does on a click
(``MediaFileManager.execute_deferred`` calls it with no arguments).
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180


@pytest.fixture
def builders(monkeypatch) -> dict:
    """Element id -> the callable a deferred download button registered (the real registration still runs)."""
    registered: dict = {}
    real = MediaFileManager.add_deferred

    def recording(self, data_callable, mimetype, coordinates, file_name=None, *, element_id=""):
        registered[element_id] = data_callable
        return real(self, data_callable, mimetype, coordinates, file_name, element_id=element_id)

    monkeypatch.setattr(MediaFileManager, "add_deferred", recording)
    return registered


def _click(app: AppTest, builders: dict, key: str) -> bytes:
    """The bytes the browser receives when the download button ``key`` is clicked."""
    data = builders[app.download_button(key=key).id]()
    return data.encode("utf-8") if isinstance(data, str) else data


def test_data_page_report_button_gives_a_self_contained_report_of_the_subject(builders):
    app = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    subject = app.subheader[0].value.split(":")[0]
    html = _click(app, builders, "data-dl-report").decode("utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert subject in html
    assert '<img src="data:image/png;base64,' in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # nothing fetched from the network
    assert "http://" not in html and "https://" not in html


def test_generation_page_dicom_button_gives_a_ct_series_on_the_ct_grid(builders, monkeypatch, tmp_path):
    import pydicom
    import SimpleITK as sitk

    from fusion_core.evaluation import TissueClassMapper
    from fusion_core.evaluation import cross_modal as cm
    from fusion_core.volume import Volume
    from ui.session import demo_case, demo_subject_ids

    # The page fits the baseline on two training subjects once per server; a fixed one keeps the test fast.
    fixed = TissueClassMapper(np.array([-0.6, 0.0, 0.6]), np.array([400.0, 20.0, 40.0]))
    monkeypatch.setattr(cm, "fit_baseline", lambda **_: fixed)
    app = AppTest.from_file(str(ROOT / "pages" / "generation.py"), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    with zipfile.ZipFile(io.BytesIO(_click(app, builders, "gen-dl-dicom"))) as archive:
        archive.extractall(tmp_path)
    files = sorted(tmp_path.glob("*.dcm"))
    first = pydicom.dcmread(files[0])
    assert first.Modality == "CT" and list(first.ImageType[:2]) == ["DERIVED", "SECONDARY"]
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(f) for f in files])
    series = Volume.from_sitk(reader.Execute())
    ct = demo_case(demo_subject_ids()[0]).ct  # the page opens on the first demo subject; CT keeps its grid
    assert series.same_grid(ct, atol=0.01)


def test_attention_page_report_holds_the_chosen_classifier_and_attribution_method(builders):
    from fusion_core.explain import Method

    app = AppTest.from_file(str(ROOT / "pages" / "attention.py"), default_timeout=300)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    methods = app.radio(key="att-method")
    method = next(m.value for m in Method if m != methods.value)  # not the page's (nor the report's) default
    methods.set_value(method).run()
    assert not app.exception, [e.value for e in app.exception]
    model = app.selectbox(key="att-model").value
    html = _click(app, builders, "att-dl-report").decode("utf-8")
    assert model in html
    assert f"{method} attribution on slice" in html
