"""DistributedDataParallel plumbing: works unchanged under ``torchrun --nproc_per_node=N``."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def world_size() -> int:
    """Number of processes in the group (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    """True on rank 0."""
    return rank() == 0


def init_distributed(device: torch.device) -> bool:
    """Join the process group torchrun describes (WORLD_SIZE > 1); gloo on CPU, nccl on CUDA.

    Returns:
        True when running distributed.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return dist.is_initialized()
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend)
    return True


def local_device(device: torch.device) -> torch.device:
    """On multi-GPU nodes each process takes the GPU of its LOCAL_RANK."""
    if device.type == "cuda":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def average_gradients(module: torch.nn.Module) -> None:
    """All-reduce-mean the gradients (for modules trained outside the DDP wrapper, e.g. GAN critics)."""
    n = world_size()
    if n == 1:
        return
    for p in module.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= n


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """Sum a tensor over processes (identity when not distributed)."""
    if world_size() > 1:
        values = values.clone()
        dist.all_reduce(values)
    return values


def cleanup() -> None:
    """Destroy the process group, if one is running."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
