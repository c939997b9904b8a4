"""AppTest of each page: runs headless, no exception, the demo cohort shows without clicks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180


@pytest.fixture(autouse=True)
def _tmp_is_a_data_root(monkeypatch, tmp_path):
    """The Data page opens only folders under the data roots: make each test's tmp_path one."""
    monkeypatch.setenv("FUSION_DATA_ROOTS", str(tmp_path))


def _run(script: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_app_entry_point_shows_home():
    app = _run("app.py")
    assert app.title[0].value == "Fusion Explorer"


def test_data_page_shows_demo_pair_without_clicks():
    app = _run("pages/data.py")
    assert not app.error
    assert "Paired CT and MR" in app.subheader[0].value
    images = app.get("image")
    assert len(images) == 6  # CT and MR, three planes each
    table = app.dataframe[-1].value
    assert list(table.index) == ["CT", "MR"]
    assert "HU" not in table.columns  # metadata columns are descriptive, not units


def _mr_axial_caption(app: AppTest) -> str:
    (caption,) = [
        img.proto.imgs[0].caption for img in app.get("image") if img.proto.imgs[0].caption.startswith("MR · axial")
    ]
    return caption


def test_data_page_moves_mr_slice_with_ct_position():
    from fusion_core.viz.views import canonical

    app = _run("pages/data.py")
    case = app.session_state["active_case"]
    ct, mr = canonical(case.ct), canonical(case.mr)
    (nx, ny, _), n_mr = ct.size_xyz, mr.size_xyz[2]

    def predicted_mr_slice(ct_axial: int) -> int:
        """The CT cursor (sliders: sagittal nx//2, coronal ny//2, axial) -> LPS mm -> nearest MR axial index."""
        point = ct.index_to_physical([nx // 2, ny // 2, ct_axial])
        return int(np.clip(round(mr.physical_to_index(point)[2]), 0, n_mr - 1))

    assert _mr_axial_caption(app) == f"MR · axial {predicted_mr_slice(ct.size_xyz[2] // 2) + 1}/{n_mr}"
    app.slider(key="data-view-axial").set_value(10).run()
    assert not app.exception
    expected = predicted_mr_slice(10)
    assert expected != 10 and expected != predicted_mr_slice(ct.size_xyz[2] // 2)  # other grid, other slice
    assert _mr_axial_caption(app) == f"MR · axial {expected + 1}/{n_mr}"


def test_data_page_reports_missing_folder(tmp_path):
    app = _run("pages/data.py")
    app.radio(key="data-source").set_value("Folder on this machine").run()
    app.text_input(key="data-folder").input(str(tmp_path / "nowhere")).run()
    assert not app.exception
    assert app.error and "nowhere" in app.error[0].value


def test_data_page_loads_a_cohort_folder(tmp_path):
    from fusion_core.data.phantom import make_subject
    from fusion_core.io import save_volume

    subject = make_subject(3, size=48)
    (tmp_path / "s1").mkdir()
    save_volume(subject.ct, tmp_path / "s1" / "ct.nii.gz")
    save_volume(subject.mr, tmp_path / "s1" / "mr.nii.gz")
    app = _run("pages/data.py")
    app.radio(key="data-source").set_value("Folder on this machine").run()
    app.text_input(key="data-folder").input(str(tmp_path)).run()
    assert not app.exception and not app.error
    assert "s1" in app.subheader[0].value


def _image_urls(app: AppTest) -> dict[str, str]:
    return {img.proto.imgs[0].caption: img.proto.imgs[0].url for img in app.get("image")}


@pytest.mark.parametrize("window", ["bone", "soft tissue"])
def test_data_page_ct_window_presets_change_ct_only(window):
    app = _run("pages/data.py")
    before = _image_urls(app)
    app.selectbox(key="data-view-CT-window").set_value(window).run()
    assert not app.exception
    after = _image_urls(app)
    changed = {caption.split(" ")[0] for caption in before if before[caption] != after.get(caption)}
    assert changed == {"CT"}


def test_catalog_pages_exist_and_url_paths_match_files():
    from ui.catalog import PAGES, PAGES_DIR

    assert sum(page.default for page in PAGES) == 1
    for page in PAGES:
        assert (PAGES_DIR / page.script).is_file()
        assert page.url_path == ("" if page.default else page.script.removesuffix(".py"))


def test_data_page_opens_a_single_scan_path(tmp_path, small_ct):
    from fusion_core.io import save_volume

    save_volume(small_ct, tmp_path / "one_scan.nrrd")
    app = _run("pages/data.py")
    app.radio(key="data-source").set_value("Folder on this machine").run()
    app.text_input(key="data-folder").input(str(tmp_path / "one_scan.nrrd")).run()
    assert not app.exception and not app.error
    assert "CT only" in app.subheader[0].value


def test_data_page_metadata_table_shows_the_readers_repairs(tmp_path, small_ct):
    from fusion_core.io import save_volume

    holes = small_ct.array.copy()
    holes[0, 0, :3] = np.nan
    save_volume(small_ct.with_array(holes), tmp_path / "holes.nrrd")
    app = _run("pages/data.py")
    app.radio(key="data-source").set_value("Folder on this machine").run()
    app.text_input(key="data-folder").input(str(tmp_path / "holes.nrrd")).run()
    assert not app.exception and not app.error
    table = app.dataframe[0].value
    assert "3 NaN/Inf voxels replaced" in table.loc["CT", "repairs and notes"]


def test_data_page_refuses_two_ct_uploads_naming_both(tmp_path, small_ct):
    from fusion_core.io import save_volume

    for name in ("a_ct.nii.gz", "b_ct.nrrd"):
        save_volume(small_ct, tmp_path / name)
    app = _run("pages/data.py")
    app.radio(key="data-source").set_value("Upload files").run()
    files = [
        (name, (tmp_path / name).read_bytes(), "application/octet-stream") for name in ("a_ct.nii.gz", "b_ct.nrrd")
    ]
    app.file_uploader(key="data-upload").set_value(files).run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.error) == 1 and "two CT scans: 'a_ct.nii.gz' and 'b_ct.nrrd'" in app.error[0].value
    assert not app.get("image")  # nothing silently merged and shown


def test_uploads_of_ct_and_two_mr_weightings_make_one_case(small_ct):
    from fusion_core.case import case_from_volumes
    from fusion_core.errors import CaseError

    t1 = small_ct.with_array(small_ct.array + 1000, modality="MR")
    t2 = t1.with_array(t1.array, modality="MR-T2")
    case = case_from_volumes("upload", {"ct.nii": small_ct, "t1.nii": t1, "t2.nii": t2})
    assert case.inputs == ("CT", "MR-T1", "MR-T2") and case.mr is t1
    with pytest.raises(CaseError, match=r"two MR-T1 scans: 't1.nii' and 'mr.nii'"):
        case_from_volumes("upload", {"t1.nii": t1, "mr.nii": t1.with_array(t1.array, modality="MR-T1")})
