"""The bad-input corpus: hostile and broken scans, archives and cohorts, generated (no binaries).

Every case is written into a scratch folder by its ``make`` function and then sent through each
way the app reads data: ``load_volume``, ``open_path``, ``load_cohort`` (the file as a subject's
CT) and the upload path (``load_upload``; a folder is zipped first). ``run_case`` records what each
route did; ``tests/io/test_bad_input_corpus.py`` checks the outcomes and the README's table.

    python -m tests.io.bad_inputs            # print the README's reliability table
    python -m tests.io.bad_inputs --readme   # rewrite it in README.md
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np

from fusion_core.errors import FusionError
from fusion_core.io import load_cohort, load_upload, load_volume_with_report, open_path, save_volume
from fusion_core.volume import Volume
from tests.io.dicom_factory import write_series

ROUTES = ("load_volume", "open_path", "load_cohort", "upload")
#: Where the "absolute path" zip member would land if extraction followed it.
ABSOLUTE_TARGET = "/tmp/fusion-bad-input-absolute.txt"


@dataclasses.dataclass(frozen=True)
class BadInput:
    """One corpus entry.

    Attributes:
        name: the file or folder name the user sees (messages must name it).
        what: one line for the README table.
        make: writes ``name`` into the folder it is given.
        kind: "file" (one scan file), "folder" (a DICOM folder), "zip" (an upload archive),
            "cohort" (a cohort folder) or "pair" (a cohort whose CT and MR are then registered: scans far apart
            in scanner space are started from their head centres, so they load and register).
        loads: True when the input is usable and loads with a note instead of being refused.
        skip: routes that do not apply (n/a), e.g. the upload of a folder of symlinks (a zip holds the
            files themselves).
    """

    name: str
    what: str
    make: Callable[[Path], None]
    kind: str = "file"
    loads: bool = False
    skip: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one route did: "refused" (a core error), "loaded", "n/a" or "CRASH" (anything else)."""

    status: str
    message: str = ""


# ----------------------------------------------------------------------------- builders


def _volume(shape=(6, 7, 8), *, modality="MR", value=None, seed=0, origin=(0.0, 0.0, 0.0)) -> Volume:
    rng = np.random.default_rng(seed)
    array = np.full(shape, value, np.float32) if value is not None else rng.normal(100, 20, shape).astype(np.float32)
    return Volume(array, spacing=(1.0, 1.0, 1.0), origin=origin, modality=modality)


def _nifti_bytes(array: np.ndarray, *, affine=None, **fields) -> bytes:
    """NIfTI-1 bytes of ``array`` ((x, y, z...) order), then header ``fields`` patched in as written."""
    image = nib.Nifti1Image(array, np.eye(4) if affine is None else affine)
    image.header.set_qform(image.affine, code=1)
    blob = bytearray(image.to_bytes())
    header = nib.Nifti1Header.from_fileobj(io.BytesIO(bytes(blob)), check=False)
    for key, value in fields.items():
        header[key] = value
    blob[:348] = header.binaryblock
    return bytes(blob)


def _header_only(shape, dtype=np.float32) -> bytes:
    header = nib.Nifti1Header()
    header.set_data_shape(shape)
    header.set_data_dtype(dtype)
    header["vox_offset"] = 352
    return header.binaryblock + bytes(4)


def _good_nii() -> bytes:
    return _nifti_bytes(np.random.default_rng(1).normal(100, 20, (8, 7, 6)).astype(np.float32))


def _mha(dims: str, *, data_file="LOCAL", element="MET_FLOAT", ndims=3, extra="") -> bytes:
    return (
        f"ObjectType = Image\nNDims = {ndims}\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
        f"CompressedData = False\nDimSize = {dims}\n{extra}ElementType = {element}\nElementDataFile = {data_file}\n"
    ).encode()


def _nrrd(sizes: str, *, encoding="raw", extra="") -> bytes:
    return (
        f"NRRD0004\ntype: float\ndimension: 3\nsizes: {sizes}\nencoding: {encoding}\nendian: little\n{extra}\n".encode()
    )


def _writes(name: str, data: bytes | Callable[[], bytes]) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        (folder / name).write_bytes(data() if callable(data) else data)

    return make


def zip_bytes(members: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    """A deflated zip of ``members``; ``symlink``: also a member of that name that is a symlink."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _zip(name: str, members: dict[str, bytes], *, symlink: str | None = None, patch_size: int | None = None):
    def make(folder: Path) -> None:
        blob = bytearray(zip_bytes(members, symlink=symlink))
        if patch_size is not None:  # lie about the uncompressed size (local header and central directory)
            for offset in (22, blob.rfind(b"PK\x01\x02") + 24):
                blob[offset : offset + 4] = patch_size.to_bytes(4, "little")
        (folder / name).write_bytes(bytes(blob))

    return make


def _dicom_folder(name: str, **variant) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        hu = np.random.default_rng(2).integers(-1000, 1000, (5, 6, 7)).astype(np.float32)
        target = folder / name
        if variant.get("two_series"):
            write_series(target, hu, series_number=1, description="head")
            write_series(target, hu[:3], series_number=2, description="scout")
        elif variant.get("missing_slice"):
            files = write_series(target, hu)
            files[2].unlink()
        elif variant.get("tilted"):
            files = write_series(target, hu)
            _retilt(files[3])
        elif variant.get("link_out"):  # the series' only files are links to scans outside the folder
            outside = write_series(folder / "elsewhere", hu)
            target.mkdir()
            for file in outside:
                (target / file.name).symlink_to(file)
        elif variant.get("no_pixels"):
            files = write_series(target, hu[:1])
            _strip_pixels(files[0])
        else:
            target.mkdir()
            (target / "notes.txt").write_text("no scans here\n")

    return make


def _retilt(path: Path) -> None:
    import pydicom

    ds = pydicom.dcmread(path)
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]  # a coronal slice inside an axial series
    ds.save_as(path)


def _strip_pixels(path: Path) -> None:
    import pydicom

    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)


def _cohort(name: str, subjects: dict[str, dict[str, Volume | None]], *, csv: str | None = None, manifest=None):
    def make(folder: Path) -> None:
        root = folder / name
        root.mkdir()
        for subject, scans in subjects.items():
            (root / subject).mkdir()
            for role, volume in scans.items():
                if volume is not None:
                    save_volume(volume, root / subject / f"{role}.nii.gz")
        if csv is not None:
            (root / "cohort.csv").write_text(csv)
        if manifest is not None:
            (root / "manifest.csv").write_text(manifest)

    return make


def _pair(ct_origin, mr_origin, mr_shape=(6, 7, 8)):
    return {
        "s1": {
            "ct": _volume((6, 7, 8), modality="CT", origin=ct_origin, seed=3),
            "mr": _volume(mr_shape, modality="MR", origin=mr_origin, seed=4),
        }
    }


def _rgb() -> bytes:
    rgb = np.zeros((4, 4, 4), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    return nib.Nifti1Image(rgb, np.eye(4)).to_bytes()


def _with_nan() -> bytes:
    array = np.random.default_rng(5).normal(100, 20, (8, 7, 6)).astype(np.float32)
    array[0, 0, :3] = [np.nan, np.inf, -np.inf]
    return _nifti_bytes(array)


def _truncated_gzip() -> bytes:
    blob = gzip.compress(_good_nii())
    return blob[: len(blob) // 2]


def _corrupt_gzip() -> bytes:
    blob = bytearray(gzip.compress(np.random.default_rng(6).normal(size=4000).astype(np.float32).tobytes()))
    blob[len(blob) // 2 : len(blob) // 2 + 64] = bytes(64)
    return bytes(blob)


def _bad_magic() -> bytes:
    blob = bytearray(_good_nii())
    blob[344:348] = b"xx1\0"
    return bytes(blob)


def _f32(shape, value=0.0) -> np.ndarray:
    return np.full(shape, value, np.float32)


# ----------------------------------------------------------------------------- the corpus

CT = _volume((6, 7, 8), modality="CT", seed=7)
CORPUS: tuple[BadInput, ...] = (
    # NIfTI files
    BadInput("empty.nii.gz", "0-byte file", _writes("empty.nii.gz", b"")),
    BadInput("short.nii", "truncated NIfTI header (300 of 348 bytes)", _writes("short.nii", lambda: _good_nii()[:300])),
    BadInput("text.nii", "text file named .nii", _writes("text.nii", b"this is not an image\n" * 40)),
    BadInput("badmagic.nii", "wrong NIfTI magic", _writes("badmagic.nii", _bad_magic)),
    BadInput("plain.nii.gz", "uncompressed bytes named .nii.gz", _writes("plain.nii.gz", _good_nii)),
    BadInput("cut.nii.gz", "truncated gzip stream", _writes("cut.nii.gz", _truncated_gzip)),
    BadInput("corrupt.nii.gz", "gzip stream with zeroed bytes", _writes("corrupt.nii.gz", _corrupt_gzip)),
    BadInput("random.nii.gz", "gzip of random bytes", _writes("random.nii.gz", lambda: gzip.compress(bytes(range(256)) * 8))),
    BadInput("terabytes.nii", "header claims 4e12 voxels (16 TB)", _writes("terabytes.nii", lambda: _header_only((20000, 20000, 10000)))),
    BadInput("terabytes.nii.gz", "gzipped header claiming 16 TB", _writes("terabytes.nii.gz", lambda: gzip.compress(_header_only((20000, 20000, 10000))))),
    BadInput("liar.nii", "header claims more voxels than the file holds", _writes("liar.nii", lambda: _header_only((100, 100, 100)))),
    BadInput("liar.nii.gz", "gzipped, claims more voxels than it holds", _writes("liar.nii.gz", lambda: gzip.compress(_header_only((10, 10, 10)) + bytes(40)))),
    BadInput("negdim.nii", "negative dimension", _writes("negdim.nii", lambda: _nifti_bytes(_f32((4, 4, 4)), dim=[3, 4, -4, 4, 1, 1, 1, 1]))),
    BadInput("zerodim.nii", "zero-sized axis", _writes("zerodim.nii", lambda: _header_only((4, 0, 4)))),
    BadInput("zerospacing.nii", "zero voxel spacing, no qform/sform", _writes("zerospacing.nii", lambda: _nifti_bytes(_f32((4, 4, 4), 1), pixdim=[1, 0, 0, 0, 1, 1, 1, 1], qform_code=0, sform_code=0)), loads=True),
    BadInput("negspacing.nii", "negative voxel spacing", _writes("negspacing.nii", lambda: _nifti_bytes(_f32((4, 4, 4), 1), pixdim=[1, -1, -1, -1, 1, 1, 1, 1], qform_code=0, sform_code=0)), loads=True),
    BadInput("singular.nii", "all-zero (singular) affine", _writes("singular.nii", lambda: _nifti_bytes(_f32((4, 4, 4), 1), srow_x=[0] * 4, srow_y=[0] * 4, srow_z=[0] * 4, qform_code=0, sform_code=2))),
    BadInput("nanaffine.nii", "NaN in the affine", _writes("nanaffine.nii", lambda: _nifti_bytes(_f32((4, 4, 4), 1), srow_x=[np.nan, 0, 0, 0], qform_code=0, sform_code=2))),
    BadInput("hugeoffset.nii", "vox_offset far beyond the file", _writes("hugeoffset.nii", lambda: _nifti_bytes(_f32((4, 4, 4), 1), vox_offset=2**30))),
    BadInput("nan.nii", "NaN/Inf voxels", _writes("nan.nii", _with_nan), loads=True),
    BadInput("allnan.nii", "every voxel NaN", _writes("allnan.nii", lambda: _nifti_bytes(_f32((3, 3, 3), np.nan)))),
    BadInput("constant.nii", "all-constant volume", _writes("constant.nii", lambda: _nifti_bytes(_f32((4, 4, 4), 7))), loads=True),
    BadInput("fourd.nii", "4-D image (3 volumes)", _writes("fourd.nii", lambda: _nifti_bytes(_f32((4, 4, 4, 3), 1))), loads=True),
    BadInput("twod.nii", "2-D image", _writes("twod.nii", lambda: _nifti_bytes(_f32((5, 6), 1))), loads=True),
    BadInput("complex.nii", "complex voxels", _writes("complex.nii", lambda: _nifti_bytes(np.ones((4, 4, 4), np.complex64)))),
    BadInput("rgb.nii", "RGB voxels", _writes("rgb.nii", _rgb)),
    BadInput("vector.nii", "5-D vector image", _writes("vector.nii", lambda: _nifti_bytes(_f32((4, 4, 4, 1, 3), 1)))),
    # MetaImage / NRRD
    BadInput("text.mha", "text file named .mha", _writes("text.mha", b"hello\n")),
    BadInput("random.mha", "random bytes named .mha", _writes("random.mha", bytes(np.random.default_rng(8).integers(0, 256, 2000, dtype=np.uint8)))),
    BadInput("terabytes.mha", "MetaImage header claiming 1e15 voxels", _writes("terabytes.mha", lambda: _mha("100000 100000 100000") + bytes(16))),
    BadInput("liar.mha", "MetaImage claiming more data than it holds", _writes("liar.mha", lambda: _mha("100 100 100") + bytes(16))),
    BadInput("negdim.mha", "MetaImage with a negative size", _writes("negdim.mha", lambda: _mha("4 -4 4") + bytes(256))),
    BadInput("missingraw.mhd", "MetaImage whose .raw file is missing", _writes("missingraw.mhd", lambda: _mha("4 4 4", data_file="scan.raw"))),
    BadInput("escape.mhd", "MetaImage naming /etc/passwd as its data", _writes("escape.mhd", lambda: _mha("4 4 1", data_file="/etc/passwd", element="MET_UCHAR"))),
    BadInput("dotdot.nhdr", "NRRD naming ../ data", _writes("dotdot.nhdr", lambda: _nrrd("2 2 1", extra="data file: ../../secret.raw\n"))),
    BadInput("complex.mha", "MetaImage with 2-component voxels", _writes("complex.mha", lambda: _mha("4 4 4", extra="ElementNumberOfChannels = 2\n") + bytes(512))),
    BadInput("cut.nrrd", "NRRD with truncated raw data", _writes("cut.nrrd", lambda: _nrrd("10 10 10") + bytes(100))),
    BadInput("terabytes.nrrd", "NRRD header claiming 1e15 voxels", _writes("terabytes.nrrd", lambda: _nrrd("100000 100000 100000") + bytes(16))),
    BadInput("garbage.nrrd", "NRRD with garbage encoding", _writes("garbage.nrrd", lambda: _nrrd("4 4 4", encoding="rot13") + bytes(256))),
    # DICOM and other types
    BadInput("fake.dcm", "non-DICOM bytes named .dcm", _writes("fake.dcm", b"q" * 300)),
    BadInput("photo.png", "unsupported file type", _writes("photo.png", b"\x89PNG\r\n\x1a\n not really")),
    BadInput("scan.pdf", "PDF with an image-less suffix", _writes("scan.pdf", b"%PDF-1.4\n%%EOF\n")),
    BadInput("mixed_series", "DICOM folder mixing two series", _dicom_folder("mixed_series", two_series=True), "folder", loads=True),
    BadInput("gap_series", "DICOM series with a missing slice", _dicom_folder("gap_series", missing_slice=True), "folder", loads=True),
    BadInput("tilted_series", "DICOM series with one slice in another orientation", _dicom_folder("tilted_series", tilted=True), "folder"),
    BadInput("nopixels", "DICOM file without pixel data", _dicom_folder("nopixels", no_pixels=True), "folder"),
    BadInput("no_dicom", "folder without any scan", _dicom_folder("no_dicom"), "folder"),
    BadInput("linked_series", "folder whose DICOM files are symlinks to another folder", _dicom_folder("linked_series", link_out=True), "folder", skip=("upload",)),
    # Upload archives
    BadInput("empty.zip", "empty zip", _zip("empty.zip", {}), "zip"),
    BadInput("notzip.zip", "text file named .zip", _writes("notzip.zip", b"not a zip"), "zip"),
    BadInput("dotdot.zip", "zip member '../evil.txt'", _zip("dotdot.zip", {"../evil.txt": b"x"}), "zip"),
    BadInput("absolute.zip", "zip member with an absolute path", _zip("absolute.zip", {ABSOLUTE_TARGET: b"x"}), "zip"),
    BadInput("symlink.zip", "zip member that is a symlink", _zip("symlink.zip", {"ok.txt": b"x"}, symlink="link"), "zip"),
    BadInput("bomb.zip", "zip bomb declaring 4 GB", _zip("bomb.zip", {"zeros.bin": bytes(2**20)}, patch_size=4_000_000_000), "zip"),
    BadInput("liarbomb.zip", "zip bomb whose header understates its size", _zip("liarbomb.zip", {"zeros.bin": bytes(5 * 2**20)}, patch_size=100), "zip"),
    BadInput("textonly.zip", "zip without scans", _zip("textonly.zip", {"readme.txt": b"hi"}), "zip"),
    # Cohorts and pairs
    BadInput("no_mr_cohort", "cohort subject with a missing MR", _cohort("no_mr_cohort", {"s1": {"ct": CT}}), "cohort", loads=True),
    BadInput("missing_file_cohort", "manifest row naming a missing MR", _cohort("missing_file_cohort", {"s1": {"ct": CT}}, manifest="subject_id,modality,path\ns1,CT,s1/ct.nii.gz\ns1,MR,s1/mr.nii.gz\n"), "cohort"),
    BadInput("outside_cohort", "manifest row pointing outside the cohort", _cohort("outside_cohort", {"s1": {"ct": CT}}, manifest="subject_id,modality,path\ns1,CT,s1/ct.nii.gz\ns1,MR,/etc/passwd\n"), "cohort"),
    BadInput("columns_cohort", "cohort.csv with unknown columns", _cohort("columns_cohort", {"s1": {"ct": CT}}, csv="subject_id,label,shoe_size\ns1,1,44\n"), "cohort", loads=True),
    BadInput("dupe_cohort", "cohort.csv with duplicate subject ids", _cohort("dupe_cohort", {"s1": {"ct": CT}}, csv="subject_id,label\ns1,1\ns1,0\n"), "cohort"),
    BadInput("label_cohort", "cohort.csv with non-numeric labels", _cohort("label_cohort", {"s1": {"ct": CT}}, csv="subject_id,label\ns1,maybe\n"), "cohort"),
    BadInput("empty_cohort", "cohort folder with no subjects", _cohort("empty_cohort", {}), "cohort"),
    BadInput("apart_pair", "CT and MR that do not overlap in space", _cohort("apart_pair", _pair((0, 0, 0), (500, 500, 500))), "pair", loads=True),
    BadInput("knee_pair", "knee MR (z = -600 mm) paired with a head CT", _cohort("knee_pair", _pair((-3, -3, 40), (-40, -40, -600), (30, 40, 40))), "pair", loads=True),
)  # fmt: skip


# ----------------------------------------------------------------------------- running


def run_case(case: BadInput, workdir: Path) -> dict[str, Outcome]:
    """Write ``case`` under ``workdir`` and send it through every route that applies."""
    source = workdir / "source"
    source.mkdir(parents=True)
    case.make(source)
    path = source / case.name
    routes: dict[str, Callable[[], object]] = {}
    if case.kind in ("file", "folder", "zip"):
        routes["load_volume"] = lambda: load_volume_with_report(path)
        routes["open_path"] = lambda: open_path(path)
    if case.kind == "file":
        routes["load_cohort"] = lambda: _as_cohort_subject(path, workdir / "cohort")
    if case.kind in ("cohort", "pair"):
        routes["open_path"] = lambda: _every_case(open_path(path))
        routes["load_cohort"] = lambda: _every_case(load_cohort(path), register=case.kind == "pair")
    if case.kind in ("file", "zip"):
        routes["upload"] = lambda: load_upload(case.name, path.read_bytes(), workdir / "upload")
    if case.kind == "folder":
        routes["upload"] = lambda: load_upload(f"{case.name}.zip", _zip_folder(path), workdir / "upload")
    applies = [route for route in ROUTES if route in routes and route not in case.skip]
    return {route: _attempt(routes[route], workdir) if route in applies else Outcome("n/a") for route in ROUTES}


def _attempt(call: Callable[[], object], workdir: Path) -> Outcome:
    try:
        result = call()
    except FusionError as error:
        return Outcome("refused", _clean(str(error), workdir))
    except Exception as error:  # the point: anything else is a crash
        return Outcome("CRASH", f"{type(error).__name__}: {_clean(str(error), workdir)}")
    notes = result[1] if isinstance(result, tuple) else []
    notes = [note for note in notes if not note.startswith("modality not given")]
    return Outcome("loaded", _clean(notes[0], workdir) if notes else "")


def _clean(message: str, workdir: Path) -> str:
    """The message with the scratch folder removed (so the table is the same on every machine)."""
    return re.sub(r"\s+", " ", message.replace(f"{workdir}/source/", "").replace(str(workdir), "<tmp>"))


def _as_cohort_subject(path: Path, root: Path) -> None:
    """Put the file in a cohort as subject s1's CT (keeping its suffix) and load that case."""
    suffix = path.name[path.name.index(".") :] if "." in path.name else ""
    (root / "s1").mkdir(parents=True)
    shutil.copyfile(path, root / "s1" / f"ct{suffix}")
    load_cohort(root).load_case("s1")


def _every_case(opened, *, register: bool = False) -> None:
    from fusion_core.registration import register_rigid

    for subject in getattr(opened, "subject_ids", []):
        case = opened.load_case(subject)
        if register and case.is_paired:
            register_rigid(case.ct, case.mr, levels=(1,), smoothing=(0.0,), iterations=5, multi_start_deg=0)


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
    return buffer.getvalue()


def run_corpus(base: Path | None = None) -> dict[str, dict[str, Outcome]]:
    """Every case's outcomes, in corpus order (each case in its own scratch folder under ``base``)."""
    with tempfile.TemporaryDirectory(prefix="bad-inputs-", dir=base) as scratch:
        return {case.name: run_case(case, Path(scratch) / f"{index:02d}") for index, case in enumerate(CORPUS)}


def markdown_table(results: dict[str, dict[str, Outcome]]) -> str:
    """The README's table: one row per case, one column per route, and the first message (an error, or
    for a loaded input the note shown to the user; the upload's message for archives)."""
    lines = [
        "| # | Input | What | " + " | ".join(f"`{route}`" for route in ROUTES) + " | Message or note |",
        "|---|---|---|" + "---|" * len(ROUTES) + "---|",
    ]
    for index, case in enumerate(CORPUS, 1):
        outcomes = results[case.name]
        first = ("upload",) if case.kind == "zip" else ROUTES
        message = next((outcomes[route].message for route in first if outcomes[route].message), "")
        cells = " | ".join(outcomes[route].status for route in ROUTES)
        shown = message if len(message) <= 140 else message[:139] + "…"
        lines.append(f"| {index} | `{case.name}` | {case.what} | {cells} | {shown.replace('|', '/')} |")
    return "\n".join(lines)


def update_readme(readme: Path, table: str) -> None:
    """Replace the table between the README's bad-input markers."""
    start, end = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"
    text = readme.read_text()
    head, rest = text.split(start, 1)
    readme.write_text(f"{head}{start}\n{table}\n{end}{rest.split(end, 1)[1]}")


if __name__ == "__main__":
    import sys

    generated = markdown_table(run_corpus())
    if "--readme" in sys.argv:
        update_readme(Path(__file__).resolve().parents[2] / "README.md", generated)
    else:
        print(generated)
