"""The Cross-modal Generation page's core: directions, real targets, signed errors, scales, truth, what-ifs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from fusion_core.case import Case
from fusion_core.data.phantom import make_subject
from fusion_core.evaluation import cross_modal as cm
from fusion_core.inference import as_loaded, impute
from fusion_core.models import EncoderConfig, MultimodalVAE, VAEConfig
from fusion_core.preprocess.masks import case_head_mask

ENC = EncoderConfig(image_size=16, base_channels=4, n_down=2, max_channels=8)


@pytest.fixture(scope="module")
def case() -> Case:
    subject = make_subject(3, size=32, label=1, lesion_type="calcified", lesion_radius_mm=(20.0, 20.0), conspicuity=1.0)
    return subject.to_case().aligned()


@pytest.fixture(scope="module")
def vae():
    torch.manual_seed(0)
    return as_loaded(MultimodalVAE(VAEConfig(encoder=ENC, latent_dim=8, latent_channels=2)))


def test_outputs_fall_back_to_the_network_and_follow_the_card_when_it_says(vae):
    assert cm.generated_modalities(vae) == ("CT", "MR")
    assert cm.can_generate(vae, "MR", "CT") and cm.can_generate(vae, "CT", "MR")
    ct_only = dataclasses.replace(vae, card=dataclasses.replace(vae.card))
    object.__setattr__(ct_only.card, "outputs", ("CT",))  # a card field the models' helpers are adding
    assert cm.generated_modalities(ct_only) == ("CT",) and not cm.can_generate(ct_only, "CT", "MR")


def test_sources_real_targets_and_the_unpaired_case(case):
    assert set(cm.source_volumes(case, "MR")) == {"MR-T1", "MR-T2"}
    assert cm.real_target(case, "CT") is case.ct
    mr = cm.real_target(case, "MR")
    assert mr.same_grid(case.mr) and mr.array.min() >= 0 and mr.array.max() <= 1000
    mr_only = Case("mr-only", mr=case.mr)
    assert cm.real_target(mr_only, "CT") is None
    with pytest.raises(cm.GenerationViewError, match="has no CT"):
        cm.source_volumes(mr_only, "CT")


def test_signed_error_is_nan_outside_the_head_and_scales_are_round(case):
    head = case_head_mask(case)
    error = cm.signed_error(case.ct.with_array(case.ct.array + 50), case.ct, head)
    assert np.isnan(error.array[~head]).all() and np.allclose(error.array[head], 50)
    assert cm.default_error_scale(error.array, "CT") == 100.0
    assert cm.symmetric_limit(np.array([np.nan, -230.0, 10.0])) == 250.0


def test_metrics_table_has_units_and_one_row_per_model(case):
    generated = {"perfect": case.ct, "offset": case.ct.with_array(case.ct.array + 100)}
    table = cm.metrics_table(cm.compare(generated, case, "CT"), "CT")
    assert list(table.index) == ["perfect", "offset"]
    assert table.loc["perfect", "MAE (HU)"] == 0 and table.loc["offset", "MAE (HU)"] == pytest.approx(100, abs=1)
    assert "bone Dice" in table.columns and "MAE brain (HU)" in table.columns
    mr_table = cm.metrics_table(cm.compare({"real": cm.real_target(case, "MR")}, case, "MR"), "MR")
    assert "bone Dice" not in mr_table.columns and mr_table.loc["real", "MAE (× real MR p99)"] == 0


def test_a_synthetic_ct_without_the_calcification_recovers_none_of_its_contrast(case):
    lesion = case.masks["lesion"].array > 0.5
    brain_hu = np.median(case.ct.array[case.masks["brain"].array > 0.5])
    flattened = case.ct.with_array(np.where(lesion, brain_hu, case.ct.array).astype(np.float32))
    contrast = cm.lesion_contrast(case, flattened)
    assert contrast.lesion_type == "calcified" and contrast.real_hu > 50
    assert abs(contrast.recovered) < 0.3 and lesion[contrast.slice_index].any()
    assert cm.lesion_contrast(dataclasses.replace(case, masks={}), flattened) is None


def test_cycle_residual_and_posterior_variance_maps(case, vae):
    synthetic = impute(vae, {"MR": case.mr}, "CT")
    back = impute(vae, {"CT": synthetic}, "MR")
    result = cm.cycle_residual(synthetic, back, case.mr, case_head_mask(case))
    assert result.residual.same_grid(case.ct) and result.mean_abs >= 0
    inputs = {label: cm.whatif_volumes(case, given) for label, given in cm.WHATIF_INPUTS.items()}
    posterior = cm.posterior_variance_maps(vae, inputs)
    assert list(posterior.maps) == list(cm.WHATIF_INPUTS) and posterior.n_channels == 2 and posterior.channels
    assert all(m.same_grid(case.ct) and (m.array > 0).all() for m in posterior.maps.values())


def test_the_attention_and_generation_pages_draw_the_same_posterior_variance_map(case):
    """Channel 0 is used (small variance), channel 1 collapsed onto the prior: both pages average channel 0 only."""
    from fusion_core.explain import posterior_variance_map

    torch.manual_seed(0)
    collapsed = as_loaded(MultimodalVAE(VAEConfig(encoder=ENC, latent_dim=8, latent_channels=2)))
    with torch.no_grad():
        for head in collapsed.network.heads.values():
            head.conv.weight[2:].zero_()  # outputs 2, 3: the log-variances of channels 0 and 1
            head.conv.bias[2:] = torch.tensor([-4.0, 8.0])
    inputs = {label: cm.whatif_volumes(case, given) for label, given in cm.WHATIF_INPUTS.items()}
    generation = cm.posterior_variance_maps(collapsed, inputs)
    index = case.ct.shape[0] // 2
    attention = posterior_variance_map(collapsed, inputs["CT + MR"], index)
    assert generation.channels == (0,)
    np.testing.assert_allclose(attention, generation.maps["CT + MR"].array[index], rtol=1e-6)
    assert 0 < attention.max() < 0.1  # the collapsed channel (variance 1) is not averaged in


def test_baseline_ct_is_air_outside_the_head(case):
    from fusion_core.evaluation import TissueClassMapper

    mapper = TissueClassMapper(np.array([-0.5, 0.5]), np.array([0.0, 40.0]))
    ct = cm.baseline_ct(mapper, case.mr)
    assert ct.modality == "CT" and ct.same_grid(case.mr) and ct.array.min() == -1000
