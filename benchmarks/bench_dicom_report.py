"""Benchmark: DICOM out and the case report.

* ``write_dicom_series`` of a full-size synthetic CT (default 512 x 512 x 400, oblique, 0.45 x 0.45 x
  1 mm) and its read-back by ``load_volume`` (SimpleITK/GDCM), with the worst HU and geometry error;
  beside it the bare SimpleITK/GDCM slice writer a script would use (``bench_io.write_dicom``: no
  patient/study, provenance or validity) and ``dicom_series_zip`` (the download).
* ``build_case_report`` + ``render_html`` of a demo case with models: time and HTML size.

Writes ``benchmarks/results/bench_dicom_report.json``.

Run:  nice -n 5 .venv/bin/python -m benchmarks.bench_dicom_report [--size 512 --slices 400]
      [--case demo:phantom-000 --models synth-unet-t1 clf-early]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from benchmarks.bench_io import make_ct, write_dicom
from fusion_core.io import dicom_series_zip, load_volume, write_dicom_series
from fusion_core.io.dicom_writer import Provenance
from fusion_core.volume import Volume

RESULTS = Path(__file__).parent / "results" / "bench_dicom_report.json"


def full_size_ct(size: int, slices: int) -> Volume:
    """``bench_io.make_ct`` on an oblique 0.45 x 0.45 x 1 mm grid with a scanner-like origin."""
    ct = make_ct(size, slices)
    direction = tuple(Rotation.from_euler("xyz", [0.0, 8.0, 3.0], degrees=True).as_matrix().ravel())
    return Volume(ct.array, (0.45, 0.45, 1.0), (-115.0, -130.0, 1127.0), direction, "CT", "synthetic CT")


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def bench_dicom(size: int, slices: int, tmp: Path) -> dict:
    ct = full_size_ct(size, slices)
    model = Provenance.of("synth-unet-t1")  # read the card once (its first import loads torch: ~10 s)
    paths, write_s = _timed(lambda: write_dicom_series(ct, tmp / "ours", model=model))
    read, read_s = _timed(lambda: load_volume(tmp / "ours"))
    _, sitk_s = _timed(lambda: write_dicom(ct, _fresh(tmp / "sitk")))
    data, zip_s = _timed(lambda: dicom_series_zip(ct, model=model))
    return {
        "shape_zyx": list(ct.shape),
        "voxels_millions": round(ct.array.size / 1e6, 1),
        "write_dicom_series_s": round(write_s, 2),
        "read_back_load_volume_s": round(read_s, 2),
        "baseline_sitk_gdcm_write_s": round(sitk_s, 2),
        "dicom_series_zip_s": round(zip_s, 2),
        "files": len(paths),
        "series_mb": round(sum(p.stat().st_size for p in paths) / 1e6, 1),
        "zip_mb": round(len(data) / 1e6, 1),
        "max_hu_error": float(np.abs(read.array - ct.array).max()),
        "max_origin_error_mm": float(np.abs(np.subtract(read.origin, ct.origin)).max()),
        "max_spacing_error_mm": float(np.abs(np.subtract(read.spacing, ct.spacing)).max()),
        "max_direction_error": float(np.abs(np.subtract(read.direction, ct.direction)).max()),
    }


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def bench_report(case_name: str, models: list[str]) -> dict:
    from fusion_core.report import build_case_report, render_html
    from fusion_core.report.__main__ import load_case

    case, source = load_case(case_name)
    report, build_s = _timed(lambda: build_case_report(case, models=models, source=source))
    text, render_s = _timed(lambda: render_html(report))
    return {
        "case": case_name,
        "models": models,
        "build_s": round(build_s, 1),
        "render_s": round(render_s, 3),
        "html_mb": round(len(text.encode()) / 1e6, 3),
        "images": text.count("data:image/png;base64,"),
        "sections_omitted": [section for section, _ in report.omitted],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--slices", type=int, default=400)
    p.add_argument("--case", default="demo:phantom-000")
    p.add_argument("--models", nargs="*", default=["synth-unet-t1", "clf-early"])
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dicom = bench_dicom(args.size, args.slices, Path(tmp))
    results = {
        "dicom": dicom,
        "report": bench_report(args.case, args.models),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "note": "2 shared CPU cores (other jobs running): times are upper bounds",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
