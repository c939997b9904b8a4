"""ONNX Runtime as the CPU runtime: same outputs as eager PyTorch, the PyTorch network untouched, cached exports."""

import dataclasses

import numpy as np
import pytest
import torch

from fusion_core.data.phantom import make_subject
from fusion_core.inference import impute, impute_with_uncertainty, load_model
from fusion_core.inference.loading import as_loaded
from fusion_core.inference.runtime import (
    RUNTIME_ENV,
    OnnxPart,
    Runtime,
    accelerated,
    default_runtime,
    export_parts,
    main,
)
from fusion_core.models import (
    CycleGAN,
    DiffusionConfig,
    DiffusionRefiner,
    EncoderConfig,
    SynthesisConfig,
    SynthesisUNet,
    TranslatorConfig,
)

pytest.importorskip("onnxruntime")
ENC = EncoderConfig(image_size=32, base_channels=8, n_down=2, max_channels=16)


@pytest.fixture(autouse=True)
def _own_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("FUSION_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(RUNTIME_ENV, raising=False)


@pytest.fixture(scope="module")
def volumes():
    s = make_subject(5, size=24, label=1)
    return {"CT": s.ct, "MR-T1": s.mr_on_ct_grid("T1"), "MR-T2": s.mr_on_ct_grid("T2")}


def _both(network):
    """(eager LoadedModel, ONNX LoadedModel) of one network built in code."""
    eager = as_loaded(network.eval())
    return eager, dataclasses.replace(
        eager, fast_network=accelerated(eager.network, Runtime.ONNX), runtime=Runtime.ONNX
    )


def _relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_onnx_unet_gives_the_eager_synthetic_ct(volumes):
    torch.manual_seed(0)
    eager, fast = _both(SynthesisUNet(SynthesisConfig(encoder=ENC, flip_average=True)))
    assert isinstance(fast.runner.unet, OnnxPart) and not isinstance(eager.runner.unet, OnnxPart)
    a, b = impute(fast, volumes, "CT").array, impute(eager, volumes, "CT").array
    assert _relative_error(a, b) < 1e-4
    assert not np.array_equal(a, impute(eager, {"MR-T1": volumes["MR-T2"], "MR-T2": volumes["MR-T1"]}, "CT").array)


def test_onnx_diffusion_samples_match_eager_with_the_same_seed(volumes):
    torch.manual_seed(0)
    config = DiffusionConfig(synthesis=SynthesisConfig(encoder=ENC), base_channels=8, steps=2, samples=2)
    eager, fast = _both(DiffusionRefiner(config))
    a = impute_with_uncertainty(fast, volumes, "CT", seed=3)
    b = impute_with_uncertainty(eager, volumes, "CT", seed=3)
    assert _relative_error(a.mean.array, b.mean.array) < 1e-4
    assert _relative_error(a.std.array, b.std.array) < 1e-3  # a spread: a difference of near-equal numbers


def test_onnx_translator_matches_eager(volumes):
    torch.manual_seed(0)
    eager, fast = _both(CycleGAN(TranslatorConfig(image_size=32, base_channels=8, n_res_blocks=1, disc_channels=8)))
    a, b = impute(fast, volumes, "CT").array, impute(eager, volumes, "CT").array
    assert _relative_error(a, b) < 1e-4


def test_acceleration_leaves_the_pytorch_network_alone():
    torch.manual_seed(0)
    network = SynthesisUNet(SynthesisConfig(encoder=ENC)).eval()
    fast = accelerated(network, Runtime.ONNX)
    assert fast is not network and isinstance(fast.unet, OnnxPart)
    assert isinstance(network.unet, torch.nn.Module) and not isinstance(network.unet, OnnxPart)
    assert accelerated(network, Runtime.PYTORCH) is network


def test_exports_are_cached_on_the_weights(tmp_path):
    torch.manual_seed(0)
    network = SynthesisUNet(SynthesisConfig(encoder=ENC)).eval()
    first = export_parts(network)["unet"]
    stamp = first.stat().st_mtime_ns
    assert export_parts(network)["unet"] == first and first.stat().st_mtime_ns == stamp  # reused
    with torch.no_grad():
        next(network.parameters()).add_(1.0)
    assert export_parts(network)["unet"] != first  # other weights, another file


def test_default_runtime_is_onnx_on_cpu_and_can_be_forced(monkeypatch):
    assert default_runtime("cpu") is Runtime.ONNX
    monkeypatch.setenv(RUNTIME_ENV, "pytorch")
    assert default_runtime("cpu") is Runtime.PYTORCH


def test_shipped_unet_loads_on_onnx_runtime_and_exports_for_users(tmp_path):
    model = load_model("synth-unet", device="cpu")
    assert model.runtime is Runtime.ONNX and isinstance(model.runner.unet, OnnxPart)
    assert load_model("synth-unet", device="cpu", runtime="pytorch").runner is not model.runner
    assert main(["synth-unet", "--out", str(tmp_path / "onnx")]) == 0
    assert (tmp_path / "onnx" / "SynthesisUNet.unet.onnx").stat().st_size > 100_000


def test_onnx_vae_encoders_give_the_eager_latents_and_generations(volumes):
    from fusion_core.inference import encode
    from fusion_core.models import MultimodalVAE, VAEConfig

    torch.manual_seed(0)
    eager, fast = _both(MultimodalVAE(VAEConfig(encoder=ENC, latent_channels=4, skips=True)))
    assert {type(m) for m in fast.runner.encoders.values()} == {OnnxPart}
    assert not any(isinstance(m, OnnxPart) for m in eager.network.encoders.values())
    both = {"CT": volumes["CT"], "MR-T1": volumes["MR-T1"]}
    assert _relative_error(encode(fast, both), encode(eager, both)) < 1e-4
    assert _relative_error(encode(fast, {"CT": volumes["CT"]}), encode(eager, {"CT": volumes["CT"]})) < 1e-4
    assert _relative_error(impute(fast, both, "CT").array, impute(eager, both, "CT").array) < 1e-4
