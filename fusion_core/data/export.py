"""Write a phantom cohort to disk in the SynthRAD-style layout that ``fusion_core.io.load_cohort`` reads.

Paired::

    <out>/<subject_id>/ct.nii.gz  mr.nii.gz (T1)  mr_t2.nii.gz  mask.nii.gz (head mask, CT grid)
                       masks/brain.nii.gz bone.nii.gz lesion.nii.gz  true_transform.tfm (CT->MR, SimpleITK)
    <out>/cohort.csv   subject_id,label,site,lesion_type,rotation_deg_x..z,translation_mm_x..z,center_mm_x..z

Unpaired: the same folders holding only ct.nii.gz or only mr.nii.gz, plus
``<out>/manifest.csv`` (subject_id,modality,path,label).
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import SimpleITK as sitk
from tqdm.auto import tqdm

from fusion_core.data.cohorts import get_cohort_spec
from fusion_core.data.phantom import PhantomSubject, iter_cohort
from fusion_core.io import save_volume

COHORT_COLUMNS = (
    "subject_id",
    "label",
    "site",
    "lesion_type",
    "rotation_deg_x",
    "rotation_deg_y",
    "rotation_deg_z",
    "translation_mm_x",
    "translation_mm_y",
    "translation_mm_z",
    "center_mm_x",
    "center_mm_y",
    "center_mm_z",
)


def cohort_row(subject: PhantomSubject) -> dict[str, object]:
    """One cohort.csv row: label, site, lesion type and the true CT->MR Euler transform parameters."""
    meta = subject.meta
    row: dict[str, object] = {
        "subject_id": subject.subject_id,
        "label": subject.label,
        "site": meta["site"],
        "lesion_type": meta["lesion_type"],
    }
    for key in ("rotation_deg", "translation_mm", "center_mm"):
        for axis, value in zip("xyz", meta[key], strict=True):
            row[f"{key}_{axis}"] = f"{value:.6f}"
    return row


def write_subject(subject: PhantomSubject, folder: Path) -> dict[str, Path]:
    """Write one subject's scans (and head mask) into ``folder``; returns modality -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for key, volume in (("ct", subject.ct), ("mr", subject.mr), ("mr_t2", subject.mr_t2)):
        if volume is not None:
            written[key] = folder / f"{key}.nii.gz"
            save_volume(volume, written[key])
    for name, mask in subject.masks.items():
        written[f"mask:{name}"] = folder / ("mask.nii.gz" if name == "head" else f"masks/{name}.nii.gz")
        save_volume(mask, written[f"mask:{name}"])
    if subject.true_transform is not None:
        written["transform"] = folder / "true_transform.tfm"
        sitk.WriteTransform(subject.true_transform, str(written["transform"]))
    return written


def write_cohort(
    subjects: Iterable[PhantomSubject], out: str | Path, *, progress: bool = True, total: int | None = None
) -> Path:
    """Write ``subjects`` under ``out`` (see module docstring); returns the CSV written.

    Subjects are written as they come and then dropped, so an iterator (``iter_cohort``) writes a
    cohort of any size in one subject's memory. Paired subjects produce ``cohort.csv``; when any
    subject lacks a modality, ``manifest.csv`` is written as well, listing every scan.
    """
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    iterator = subjects
    if progress:
        iterator = tqdm(subjects, desc="writing phantom cohort", unit="subject", total=total)
    manifest, rows, unpaired = [], [], False
    for subject in iterator:
        written = write_subject(subject, root / subject.subject_id)
        rows.append(cohort_row(subject))
        unpaired |= subject.ct is None or subject.mr is None
        for key, modality in (("ct", "CT"), ("mr", "MR")):
            if key in written:
                path = written[key].relative_to(root).as_posix()
                manifest.append(
                    {"subject_id": subject.subject_id, "modality": modality, "path": path, "label": subject.label}
                )
    _write_csv(root / "cohort.csv", COHORT_COLUMNS, rows)
    if unpaired:
        return _write_csv(root / "manifest.csv", ("subject_id", "modality", "path", "label"), manifest)
    return root / "cohort.csv"


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the phantom cohort writer (``fusion-phantom``, ``python -m fusion_core.data``)."""
    parser = argparse.ArgumentParser(prog="fusion-phantom", description="Write a procedural CT/MR head phantom cohort.")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--n", type=int, default=40, help="number of subjects (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="cohort seed (default 0)")
    parser.add_argument("--size", type=int, default=128, help="in-plane voxels (default 128)")
    parser.add_argument(
        "--unpaired", action="store_true", help="CT and MR from disjoint subjects (writes manifest.csv)"
    )
    parser.add_argument("--prevalence", type=float, default=0.5, help="fraction with a lesion (default 0.5)")
    parser.add_argument(
        "--spec",
        help="write a named cohort spec instead (e.g. demo: the app's cohort, the distribution the shipped "
        "classifiers are trained for); --n and --seed then draw other people from it when given",
    )
    return parser


def _spec_subjects(args: argparse.Namespace):
    """The named spec's subjects, generated one at a time."""
    spec = get_cohort_spec(args.spec)
    changes = {k: v for k, v in (("n", args.n_given), ("seed", args.seed_given)) if v is not None}
    spec = spec.replace(**changes, options=spec.phantom_options | {"size": args.size})
    return spec.subjects(), spec.n


def cli(argv: Sequence[str] | None = None) -> int:
    """Run the phantom CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    given = parser.parse_args(argv, namespace=argparse.Namespace(n=None, seed=None))
    args.n_given, args.seed_given = given.n, given.seed
    if args.spec:
        subjects, n = _spec_subjects(args)
    else:
        options = {"paired": not args.unpaired, "prevalence": args.prevalence, "size": args.size}
        subjects, n = iter_cohort(args.n, seed=args.seed, **options), args.n
    written = write_cohort(subjects, args.out, total=n)  # generated and written one subject at a time
    print(f"wrote {n} subjects to {args.out} ({written.name})")
    return 0
