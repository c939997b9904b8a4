"""The DDP path on CPU: gloo backend, 2 processes, 2 steps; both ranks must end with identical weights."""

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp

from fusion_core.training import load_train_config, train


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank: int, world: int, port: int, config_path: str, out: str, sums) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank)
    )
    torch.set_num_threads(1)
    config = load_train_config(config_path)
    captured = {}

    import fusion_core.training.loop as loop

    original = loop.Run.end_epoch

    def spy(self, metrics):
        captured["ddp"] = type(self.net).__name__
        captured["sum"] = float(sum(p.detach().double().sum() for p in self.model.parameters()))
        return original(self, metrics)

    loop.Run.end_epoch = spy
    train(config, out, progress=False)
    sums[rank] = (captured["ddp"], captured["sum"])


@pytest.mark.slow
@pytest.mark.parametrize("task", ["classifier"])
def test_ddp_two_processes_stay_in_sync(task, write_config, tmp_path):
    from fusion_core.training.slice_table import build_slice_table

    path = write_config(task)
    build_slice_table(load_train_config(path).data_config())  # generate once before spawning
    sums = mp.Manager().dict()
    mp.spawn(worker, args=(2, free_port(), str(path), str(tmp_path / "out"), sums), nprocs=2, join=True)
    assert sums[0][0] == "DistributedDataParallel"
    assert sums[0][1] == pytest.approx(sums[1][1], rel=1e-6)
    assert (tmp_path / "out" / "model.safetensors").is_file()
