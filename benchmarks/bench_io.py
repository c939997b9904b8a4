"""Benchmark: load_volume (with its checks) against the bare library calls it wraps.

For a CT-sized volume (default 256 x 256 x 128, int16 HU) in each format, time
``fusion_core.io.load_volume`` and the baseline a script would write without it
(nibabel ``get_fdata(float32)``, ``sitk.ReadImage`` + ``GetArrayFromImage``,
``ImageSeriesReader``). Also times the refusal of a header that claims 4e9 voxels.
Writes ``benchmarks/results/bench_io.json``.

Run:  .venv/bin/python -m benchmarks.bench_io [--size 256 --slices 128 --repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import SimpleITK as sitk
from tqdm import tqdm

from fusion_core.io import VolumeLoadError, load_volume, save_volume
from fusion_core.volume import Volume

RESULTS = Path(__file__).parent / "results" / "bench_io.json"


def make_ct(size: int, slices: int) -> Volume:
    """A head-like CT: air around a water ellipsoid with a bony shell, whole HU values."""
    z, y, x = np.ogrid[:slices, :size, :size]
    r = np.sqrt(
        ((x - size / 2) / (size * 0.4)) ** 2
        + ((y - size / 2) / (size * 0.45)) ** 2
        + ((z - slices / 2) / (slices * 0.45)) ** 2
    )
    array = np.where(r < 1.0, np.where(r < 0.92, 35.0, 900.0), -1000.0)
    array = array + np.random.default_rng(0).normal(0, 8, array.shape)
    return Volume(np.round(array).astype(np.float32), spacing=(0.9, 0.9, 2.0), modality="CT")


def write_dicom(volume: Volume, folder: Path) -> None:
    image = sitk.Cast(volume.to_sitk(), sitk.sitkInt16)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    series_uid = "1.2.826.0.1.3680043.2.1125.1.1"
    for k in range(image.GetDepth()):
        plane = image[:, :, k]
        for tag, value in (("0008|0060", "CT"), ("0020|000e", series_uid), ("0020|0013", str(k + 1)),
                           ("0020|0032", "\\".join(map(str, image.TransformIndexToPhysicalPoint((0, 0, k))))),
                           ("0020|0037", "1\\0\\0\\0\\1\\0"), ("0018|0050", str(volume.spacing[2])),
                           ("0028|1052", "0"), ("0028|1053", "1")):  # fmt: skip
            plane.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"slice{k:04d}.dcm"))
        writer.Execute(plane)


def baselines(path: Path) -> Callable[[], np.ndarray]:
    name = path.name
    if name.endswith((".nii", ".nii.gz")):
        return lambda: nib.load(path).get_fdata(dtype=np.float32)
    if path.is_dir():

        def series() -> np.ndarray:
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(path)))
            return sitk.GetArrayFromImage(reader.Execute()).astype(np.float32)

        return series
    return lambda: sitk.GetArrayFromImage(sitk.ReadImage(str(path))).astype(np.float32)


def median_seconds(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def refusal_seconds(folder: Path) -> float:
    header = nib.Nifti1Header()
    header.set_data_shape((2000, 2000, 1000))
    (folder / "huge.nii").write_bytes(header.binaryblock + b"\0" * 4)
    start = time.perf_counter()
    try:
        load_volume(folder / "huge.nii")
    except VolumeLoadError:
        return time.perf_counter() - start
    raise AssertionError("the absurd header was not refused")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--slices", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    volume = make_ct(args.size, args.slices)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = [folder / "ct.nii", folder / "ct.nii.gz", folder / "ct.mha", folder / "ct.nrrd", folder / "dicom"]
        for path in paths[:-1]:
            save_volume(volume, path)
        paths[-1].mkdir()
        write_dicom(volume, paths[-1])
        for path in tqdm(paths, desc="formats"):
            ours = median_seconds(lambda p=path: load_volume(p, modality="CT"), args.repeats)
            base = median_seconds(baselines(path), args.repeats)
            assert np.array_equal(load_volume(path, modality="CT").array, volume.array), path
            rows.append({"format": path.name, "load_volume_s": round(ours, 4), "baseline_s": round(base, 4),
                         "ratio": round(ours / base, 2)})  # fmt: skip
        refuse = refusal_seconds(folder)
    result = {"shape_zyx": list(volume.shape), "repeats": args.repeats, "rows": rows,
              "refuse_4e9_voxel_header_s": round(refuse, 5)}  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    for row in rows:
        print(
            f"{row['format']:>10}: load_volume {row['load_volume_s']:.3f} s  baseline {row['baseline_s']:.3f} s  x{row['ratio']}"
        )
    print(f"refusing a 4e9-voxel header: {refuse * 1000:.2f} ms  -> {RESULTS}")


if __name__ == "__main__":
    main()
