"""AppTest of the Cross-modal Generation page: demo subject with no clicks, metrics, direction and model
switches, slices that never regenerate, and the message for a subject with no real target."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from fusion_core.case import Case
from fusion_core.evaluation import TissueClassMapper
from fusion_core.evaluation import cross_modal as cm
from fusion_core.inference import list_models

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "generation.py")
CALLS: list[str] = []


@pytest.fixture
def app():
    import ui.generation as gen

    real_impute = gen.impute

    def counted(model, volumes, target, **kwargs):
        CALLS.append(model.name)
        return real_impute(model, volumes, target, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        # The page fits the baseline on two training subjects once per server; a fixed one keeps the test fast.
        patch.setattr(
            cm, "fit_baseline", lambda **_: TissueClassMapper(np.array([-0.6, 0.0, 0.6]), np.array([400.0, 20.0, 40.0]))
        )
        patch.setattr(gen, "impute", counted)
        app = AppTest.from_file(PAGE, default_timeout=180)
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        yield app


def _table(app: AppTest):
    return app.table[0].value


def test_opens_on_the_demo_subject_with_metrics_for_the_default_model_and_the_baseline(app):
    assert app.title[0].value == "Cross-modal Generation" and not app.error
    table = _table(app)
    default = "synth-unet" if "synth-unet" in list_models() else "vae-poe"  # the paired U-Net once it ships
    assert list(table.index) == [default, cm.BASELINE]
    assert {"MAE (HU)", "PSNR (dB)", "SSIM", "bone Dice", "MAE bone (HU)", "MAE brain (HU)"} <= set(table.columns)
    assert 0 < float(table.loc[default, "MAE (HU)"]) < float(table.loc[cm.BASELINE, "MAE (HU)"])
    assert len(app.get("image")) == 9  # input, generated and real, three planes each
    assert any("calcified" in m.value or "lesion" in m.value for m in app.markdown)


def test_moving_a_slice_never_regenerates(app):
    before = len(CALLS)
    app.slider(key="gen-view-axial").set_value(30).run()
    app.radio(key="gen-plane").set_value("coronal").run()
    assert not app.exception and len(CALLS) == before
    assert any("axial 31/" in img.proto.imgs[0].caption for img in app.get("image"))


def test_switching_model_and_direction(app):
    app.multiselect(key="gen-models-CT").set_value(["vae-poe", "translator-cyclegan"]).run()
    assert not app.exception and "translator-cyclegan" in _table(app).index
    app.radio(key="gen-direction").set_value("CT → MR").run()
    assert not app.exception and not app.error
    table = _table(app)
    assert "MAE (× real MR p99)" in table.columns and "bone Dice" not in table.columns
    assert cm.BASELINE not in table.index  # the baseline maps MR to CT only


def test_the_picker_labels_each_model_paired_or_unpaired(app):
    options = app.multiselect(key="gen-models-CT").options
    assert {"synth-unet · paired", "translator-cyclegan · unpaired", "translator-unpaired · unpaired"} <= set(options)
    app.multiselect(key="gen-models-CT").set_value(["synth-unet", "translator-unpaired"]).run()
    assert not app.exception and list(_table(app).index) == ["synth-unet", "translator-unpaired", cm.BASELINE]


def test_a_model_that_cannot_read_the_case_is_left_out_with_its_reason(app):
    import ui.generation as gen
    from fusion_core.inference import ModelInputError

    real = gen.generated

    def refuse(case_key, name, *args):
        if name == "translator-cyclegan":
            raise ModelInputError("translator-cyclegan reads MR-T1 + MR-T2 as its MR input: MR-T2 is missing")
        return real(case_key, name, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gen, "generated", refuse)
        app.radio(key="gen-direction").set_value(cm.Direction("MR", "CT")).run()
        app.multiselect(key="gen-models-CT").set_value(["vae-poe", "translator-cyclegan"]).run()
    assert not app.exception and any("translator-cyclegan is left out" in w.value for w in app.warning)
    assert "translator-cyclegan" not in _table(app).index and "vae-poe" in _table(app).index


def test_a_subject_without_a_real_ct_says_so():
    from fusion_core.data.phantom import make_subject

    mr = make_subject(5, size=48, modalities=("MR",)).mr
    app = AppTest.from_file(PAGE, default_timeout=180)
    app.session_state["active_case"] = Case("mr-only", mr=mr)
    app.session_state["gen-baseline"] = False
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("No real CT for mr-only" in info.value for info in app.info)
    assert not app.table and len(app.get("image")) == 6  # input and generated, no real target


def test_diffusion_uncertainty_section_follows_the_sampler_contract():
    """A listed stand-in sampler (the shipped diffusion-refiner takes minutes per volume here) through the page's
    ``impute_with_uncertainty`` call, with the contract's arguments and result."""
    from collections import namedtuple
    from types import SimpleNamespace

    import fusion_core.inference as inference
    import ui.generation as gen
    import ui.generation_sections as sections

    uncertain = namedtuple("UncertainImputation", "mean std samples")
    asked = {}

    def sampler(model, volumes, target, *, samples=None, seed=0, progress=None):
        asked.update(model=model.name, target=target, samples=samples, seed=seed)
        progress(1.0)
        like = next(iter(volumes.values()))
        mean = like.with_array(np.zeros(like.shape, np.float32), modality="CT")
        return uncertain(mean, like.with_array(np.full(like.shape, 30.0, np.float32)), samples)

    fake = SimpleNamespace(
        name="diffusion-stand-in", task="diffusion", card=SimpleNamespace(inputs=("MR-T1",), training_data="")
    )
    real_get = gen.get_model

    def get(name):
        return fake if name == fake.name else real_get(name)

    real_names = gen.generator_names
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(inference, "impute_with_uncertainty", sampler, raising=False)
        patch.setattr(gen, "generator_names", lambda s, t: [*([fake.name] if t == "CT" else []), *real_names(s, t)])
        patch.setattr(gen, "get_model", get)
        patch.setattr(sections, "get_model", get)
        app = AppTest.from_file(PAGE, default_timeout=180)
        app.session_state["gen-baseline"] = False
        app.run()
        app.toggle(key="gen-unc").set_value(True).run()
        assert not app.exception, [e.value for e in app.exception]
        assert asked == {"model": fake.name, "target": "CT", "samples": 8, "seed": 0}
        assert any("standard deviation over 8 samples" in c.value for c in app.caption)


def test_the_vae_can_be_sampled_for_its_spread(app):
    if "vae-poe" not in list_models():
        pytest.skip("vae-poe is not shipped")
    app.selectbox(key="gen-unc-model").set_value("vae-poe")
    app.toggle(key="gen-unc").set_value(True).run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("standard deviation over 8 samples" in c.value for c in app.caption)
    app.toggle(key="gen-unc").set_value(False).run()
