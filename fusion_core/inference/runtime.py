"""Where a shipped network runs: eager PyTorch, or ONNX Runtime on the CPU where it is faster.

``benchmarks/bench_runtime.py`` measured every shipped generator both ways on the same inputs
(equal outputs to a relative error below 1e-4): on a 2-core CPU ONNX Runtime runs the synthesis
U-Net, the diffusion refiner's networks and the CycleGAN's generators about 2-2.6x faster than eager
PyTorch, so it is the default on the CPU; on a GPU the networks stay in PyTorch (bf16 autocast).

Only plain tensor-to-tensor parts of a network are exported (:data:`ONNX_PARTS`: the U-Nets, the
translator's generators and the VAE's encoders, with every stage as an output for the skips);
everything around them (flip averaging, the diffusion sampling loop, the PoE, the VAE's heads and
decoders) stays Python, so one code path serves both runtimes. The exported graphs are cached under
``cache_dir("onnx")``, keyed on the weights' digest, the part and the torch version, and can be
taken to other tools (``python -m fusion_core.inference.runtime NAME --out DIR``).

Attributions (captum), MC-dropout and training always use the PyTorch network itself: only
``LoadedModel.runner`` is accelerated.
"""

from __future__ import annotations

import argparse
import copy
import enum
import hashlib
import logging
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from fusion_core.paths import cache_dir

__all__ = [
    "ONNX_PARTS",
    "RUNTIME_ENV",
    "OnnxPart",
    "Runtime",
    "accelerated",
    "default_runtime",
    "export_parts",
    "onnx_available",
    "part_paths",
    "swap_parts",
]

RUNTIME_ENV = "FUSION_RUNTIME"
logger = logging.getLogger(__name__)


class Runtime(enum.StrEnum):
    """How a network's forward passes run."""

    PYTORCH = "pytorch"
    ONNX = "onnxruntime"


# network class name -> attributes of its plain tensor -> tensor sub-networks (exported to ONNX); a
# ModuleDict stands for each of its members (the VAE's encoder per modality)
ONNX_PARTS: dict[str, tuple[str, ...]] = {
    "SynthesisUNet": ("unet",),
    "DiffusionRefiner": ("unet", "denoiser"),
    "CycleGAN": ("ct_to_mr", "mr_to_ct"),
    "MultimodalVAE": ("encoders",),
}


def onnx_available() -> bool:
    """Whether ONNX Runtime (and torch's exporter's dependencies) can be imported."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def default_runtime(device: torch.device | str) -> Runtime:
    """ONNX Runtime on the CPU when installed, PyTorch elsewhere; ``FUSION_RUNTIME=pytorch`` forces PyTorch."""
    configured = os.environ.get(RUNTIME_ENV)
    if configured:
        return Runtime(configured)
    if torch.device(device).type == "cpu" and onnx_available():
        return Runtime.ONNX
    return Runtime.PYTORCH


class OnnxPart(nn.Module):
    """A sub-network replaced by its ONNX graph: ``forward(x)`` runs an ONNX Runtime session on the CPU.

    Holds no parameters; the session is thread-safe (one per part, shared by every caller).
    """

    def __init__(self, path: Path, threads: int) -> None:
        super().__init__()
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every output of the graph for (B, C, S, S) float32 input, as CPU tensors."""
        array = x.detach().to(torch.float32).contiguous().numpy()
        return [torch.from_numpy(out) for out in self.session.run(None, {self.input_name: array})]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, S, S) float32 -> the part's (last) output, as a CPU tensor."""
        return self.outputs(x)[-1]

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """An encoder exported with all its stages (see :class:`_Stages`): the feature maps, finest first."""
        return self.outputs(x)


class _Stages(nn.Module):
    """Export wrapper: an encoder's ``stages(x)`` as the graph's outputs (the last is its ``forward``)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.encoder.stages(x))


def part_paths(network: nn.Module) -> tuple[str, ...]:
    """Dotted paths of the network's exported parts (a ModuleDict's members each)."""
    paths = []
    for attribute in ONNX_PARTS.get(type(network).__name__, ()):
        module = getattr(network, attribute)
        if isinstance(module, nn.ModuleDict):
            paths.extend(f"{attribute}.{key}" for key in module)
        else:
            paths.append(attribute)
    return tuple(paths)


def _part_channels(module: nn.Module) -> int:
    first = next(m for m in module.modules() if isinstance(m, nn.Conv2d))
    return first.in_channels


def _image_size(network: nn.Module) -> int:
    config = network.config
    encoder = getattr(config, "encoder", None) or getattr(getattr(config, "synthesis", None), "encoder", None)
    return int(getattr(encoder, "image_size", None) or getattr(config, "image_size", 64))


def _weights_digest(network: nn.Module) -> str:
    digest = hashlib.sha256(torch.__version__.encode())
    for name, tensor in network.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def export_parts(network: nn.Module, folder: Path | None = None) -> dict[str, Path]:
    """Export the network's :data:`ONNX_PARTS` as ONNX files (dynamic batch); reuses files already there.

    Args:
        network: a shipped network on the CPU, in eval mode.
        folder: where to write (default: the cache, ``cache_dir("onnx")``, keyed on the weights' digest).

    Returns:
        part attribute -> its ONNX file.
    """
    folder = Path(folder) if folder is not None else cache_dir("onnx", _weights_digest(network))
    folder.mkdir(parents=True, exist_ok=True)
    size, out = _image_size(network), {}
    for attribute in part_paths(network):
        module = network.get_submodule(attribute)
        path = folder / f"{type(network).__name__}.{attribute}.onnx"
        if not path.exists():
            _export(module, torch.zeros(2, _part_channels(module), size, size), path)
        out[attribute] = path
    return out


def _export(module: nn.Module, example: torch.Tensor, path: Path) -> None:
    """One part to ``path`` (dynamic batch); an encoder with ``stages`` exports every stage as an output."""
    graph = _Stages(module) if hasattr(module, "stages") else module
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        n_outputs = len(graph.eval()(example)) if isinstance(graph, _Stages) else 1
        names = [f"y{i}" for i in range(n_outputs)]
        partial = path.with_suffix(f".{os.getpid()}.tmp")  # another process may export the same part
        torch.onnx.export(
            graph, (example,), str(partial), input_names=["x"], output_names=names,
            dynamic_axes={"x": {0: "batch"}, **{n: {0: "batch"} for n in names}}, dynamo=False, opset_version=17,
        )  # fmt: skip
    partial.replace(path)


def accelerated(network: nn.Module, runtime: Runtime) -> nn.Module:
    """The network to run forward passes with under ``runtime``.

    Itself, or a shallow copy whose :data:`ONNX_PARTS` run in ONNX Runtime (the same network when
    it has none, or when the export fails).
    """
    if runtime is not Runtime.ONNX or type(network).__name__ not in ONNX_PARTS:
        return network
    try:
        files = export_parts(network)
    except Exception as error:  # an exporter gap must not cost the user the model: keep PyTorch
        logger.warning("ONNX export of %s failed, running it in PyTorch: %s", type(network).__name__, error)
        return network
    threads = torch.get_num_threads()
    return swap_parts(network, {attribute: OnnxPart(path, threads) for attribute, path in files.items()})


def swap_parts(network: nn.Module, parts: dict[str, nn.Module]) -> nn.Module:
    """A shallow copy of ``network`` (sharing its parameters) with the sub-networks at ``parts`` replaced.

    ``network`` itself is left as it is.

    Args:
        network: the PyTorch network.
        parts: dotted path (see :func:`part_paths`) -> the module that stands in for it.
    """
    twin = _shallow(network)
    for path, module in parts.items():
        parent_path, _, name = path.rpartition(".")
        parent = twin
        if parent_path:  # a ModuleDict member: swap it in a copy of the dict (made once)
            parent = twin._modules[parent_path]
            if parent is network.get_submodule(parent_path):
                parent = twin._modules[parent_path] = _shallow(parent)
        parent._modules[name] = module
    return twin


def _shallow(module: nn.Module) -> nn.Module:
    """A copy of ``module`` sharing its parameters and children, with its own table of children."""
    twin = copy.copy(module)
    twin._modules = dict(module._modules)
    return twin


def main(argv: list[str] | None = None) -> int:
    """CLI: export a shipped model's networks as ONNX files users can take to other tools."""
    from fusion_core.checkpoints import load_model_dir
    from fusion_core.inference.registry import model_dir

    parser = argparse.ArgumentParser(description="Export a shipped model's networks as ONNX (dynamic batch).")
    parser.add_argument("name", help="a shipped model, e.g. synth-unet")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .onnx files")
    args = parser.parse_args(argv)
    files = export_parts(load_model_dir(model_dir(args.name), device="cpu"), args.out)
    if not files:
        raise SystemExit(f"{args.name}: no part of this network is exported to ONNX (see ONNX_PARTS)")
    for path in files.values():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
