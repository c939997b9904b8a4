"""Reading and writing scans: NIfTI, MetaImage, NRRD, DICOM files and series, cohorts, uploads.

``load_volume`` is the one public reader; everything that goes wrong becomes a
``VolumeLoadError`` (a ``ValueError``) whose message names the file and the problem.
``load_volume_with_report`` also returns notes for the user. Decisions:

* Size: the header is read first and the image refused when it declares a zero-sized axis,
  more than 512 Mi voxels (``max_voxels=`` or ``$FUSION_MAX_VOXELS``), or, uncompressed,
  more voxel bytes than the file holds — nothing is allocated before that.
* 4-D scalar images: the first volume is taken (a note says so). Vector, RGB and complex
  images are refused: no scalar scan can be chosen for the user.
* 2-D images (one DICOM slice, a 2-D NIfTI) load as one-slice volumes.
* NaN/Inf voxels become the minimum finite value (a note counts them); all non-finite is refused.
* Modality: the DICOM Modality tag, else the caller's ``modality=``, else what our own files
  recorded, else guessed from intensities (CT has air near −1000 HU) with a note.
  A specific MR weighting ("MR-T1") refines a generic "MR" from any source.
* DICOM folders are searched recursively; with several series the largest is taken (a note
  names it and the others). GDCM applies RescaleSlope/Intercept, so CT is in HU.
* Server folders: ``data_roots`` / ``check_inside_roots`` confine what a visitor may open (see roots.py);
  uploads go through ``load_upload`` (size limit, safe names, messages naming the user's file).
* NIfTI: nibabel, RAS converted to LPS only in ``Volume.from_ras_affine``; ``.nii.gz`` is read
  to its end so gzip verifies the CRC. Saved NIfTI sets qform and sform; NIfTI-1 stores the
  affine in float32, so geometry round-trips to float32 precision (MHA/NRRD: exactly).
* DICOM out: ``write_dicom_series`` / ``dicom_series_zip`` write a derived CT (or MR) series
  (see dicom_writer.py).
"""

from fusion_core.io.cohort import Cohort, load_cohort
from fusion_core.io.dicom_writer import dicom_series_zip, write_dicom_series
from fusion_core.io.errors import CohortError, VolumeLoadError, VolumeSaveError
from fusion_core.io.open_path import open_path
from fusion_core.io.readers import SUPPORTED, load_volume, load_volume_with_report
from fusion_core.io.roots import PathNotAllowedError, check_inside_roots, data_roots
from fusion_core.io.upload import extract_zip_safely, load_upload
from fusion_core.io.writers import save_volume, transform_to_tfm_bytes, volume_to_nifti_bytes

__all__ = [
    "SUPPORTED",
    "Cohort",
    "CohortError",
    "PathNotAllowedError",
    "VolumeLoadError",
    "VolumeSaveError",
    "check_inside_roots",
    "data_roots",
    "dicom_series_zip",
    "extract_zip_safely",
    "load_cohort",
    "load_upload",
    "load_volume",
    "load_volume_with_report",
    "open_path",
    "save_volume",
    "transform_to_tfm_bytes",
    "volume_to_nifti_bytes",
    "write_dicom_series",
]
