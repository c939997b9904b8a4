import torch

from fusion_core.models import CycleGAN, TranslatorConfig, build_model, config_to_dict


def test_shapes_and_round_trip(pair, tmp_path):
    torch.manual_seed(0)
    model = CycleGAN(TranslatorConfig(image_size=32, base_channels=8, n_res_blocks=1, disc_channels=8)).eval()
    out = model(pair["CT"], pair["MR"])
    assert out.fake_mr.shape == out.fake_ct.shape == out.cycle_ct.shape == (3, 1, 32, 32)
    assert out.fake_ct.abs().max() <= 1
    assert model.disc_ct(out.fake_ct).shape == (3, 1, 4, 4)
    assert model(ct=pair["CT"]).fake_ct is None
    rebuilt = build_model("translator", config_to_dict(model.config)).eval()
    rebuilt.load_state_dict(model.state_dict())
    assert torch.equal(rebuilt.translate(pair["MR"], "CT"), out.fake_ct)
