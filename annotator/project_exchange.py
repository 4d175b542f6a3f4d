"""Between the annotation document and the dataset formats: export a document, import a dataset.

The document's masks go out as they are (RLE, no decoding except where a PNG needs pixels);
frames a person prompted or edited count as SA-V's "edited" frames. Imported masks are
marked ``imported``; dataset-level extras (SA-V's video id, environment, split) live in the
document's metadata and per-object extras in its attributes, so a re-export writes them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from annotator.auto_objects import sav_type_attributes, source_from_attributes
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, ObjectRecord, VideoRef, color_for
from annotator.project import relink_video
from core.formats import Dataset, FormatError, Track, claim_target, dataset_format, export_dataset, import_dataset
from core.formats.categories import CATEGORIES_KEY
from core.formats.dataset import frame_stem
from core.formats.frame_images import DEFAULT_QUALITY, FORMATS_WITH_FRAMES, FRAMES_INSIDE, frames_folder, write_frames
from core.formats.options import MASKLET, ExportOptions, as_options, export_frames, frame_names_style
from core.formats.overlap import SINGLE_LABEL_FORMATS, overlap_losses
from core.formats.overlap import report as overlap_report
from core.formats.yolo_seg import polygon_losses
from core.formats.yolo_seg import report as polygon_report
from core.formats import checked_read
from core.formats.ytvis import read_ytvis_videos
from core.types import CancelCheck, ProgressCallback

# metadata key of the dataset's own name for the video (SA-V video_id, COCO file-name prefix)
NAME_KEY = "name"
_HUMAN_SOURCES = (MaskSource.PROMPTED, MaskSource.EDITED)


def document_to_dataset(doc: AnnotationDocument) -> Dataset:
    """The dataset record of a document (masks shared, not copied)."""
    if doc.video is None:
        raise FormatError("the project has no video size to export at")
    video = doc.video
    name = str(doc.metadata.get(NAME_KEY) or (Path(video.path).stem if video.path else "") or "video")
    tracks = []
    for obj_id in sorted(doc.objects):
        record = doc.objects[obj_id]
        masks = doc.masks.get(obj_id, {})
        tracks.append(Track(
            track_id=obj_id, name=record.name, category=record.category,
            masks={frame: entry.rle for frame, entry in masks.items()},
            edited_frames=frozenset(f for f, e in masks.items() if e.source in _HUMAN_SOURCES),
            attributes={**record.attributes, **sav_type_attributes(record)}, frame_attributes=label_values(doc, record, masks),
        ))
    # dataset-level extras kept from an import (core.formats.categories' "categories" table among them);
    # a project's own label schema goes into attributes["categories"] here, the one place exports read it
    attributes = {k: v for k, v in doc.metadata.items() if k != NAME_KEY}
    if doc.labels:  # the schema's ids and names (stable across exports), the imported table's others after
        schema_ids = doc.labels.category_ids()
        kept = [c for c in attributes.get(CATEGORIES_KEY) or [] if isinstance(c, dict)
                and c.get("name") not in schema_ids and c.get("id") not in schema_ids.values()]
        attributes[CATEGORIES_KEY] = [{"id": i, "name": n} for n, i in schema_ids.items()] + kept
    return Dataset(name=name, width=video.width, height=video.height, frame_count=video.frame_count,
                   fps=video.fps, tracks=tracks, attributes=attributes)


def label_values(doc: AnnotationDocument, record: ObjectRecord, masks: dict) -> dict[int, dict[str, object]]:
    """frame -> the object's label attribute values there (its per-object values, then the frame's own
    or their defaults), on the frames it has a mask; empty when its category is not a label."""
    label = doc.labels.find(record.category)
    if label is None or not label.attributes:
        return {}
    base = {a.name: record.attributes.get(a.name, a.initial()) for a in label.object_attributes()}
    base.update({a.name: a.initial() for a in label.frame_attributes()})
    return {f: {**base, **{k: v for k, v in record.frame_attributes.get(f, {}).items() if label.attribute(k)}}
            for f in masks}


def dataset_to_document(dataset: Dataset) -> AnnotationDocument:
    """A document of a dataset's tracks, its video known only by size and length (no path yet)."""
    dataset.check_masks()  # so the masks can go straight into the document's dicts
    doc = AnnotationDocument(VideoRef("", dataset.width, dataset.height, dataset.frame_count, dataset.fps))
    doc.metadata = {NAME_KEY: dataset.name, **dataset.attributes}
    for track in sorted(dataset.tracks, key=lambda t: t.track_id):
        doc.put_object(ObjectRecord(
            obj_id=track.track_id, name=track.name, category=track.category,
            color=color_for(track.track_id), attributes=dict(track.attributes),
            source=source_from_attributes(track.attributes),
        ))
        frames = doc.masks[track.track_id]
        for frame, rle in track.masks.items():
            frames[frame] = MaskEntry(rle=rle, source=MaskSource.IMPORTED)
    return doc


def export_stem(doc: AnnotationDocument) -> str:
    """The name exports of ``doc`` start with: the video file's stem (``bedroom.mp4`` -> ``bedroom``),
    the frame folder's name (``frames/bedroom/`` -> ``bedroom``), else the dataset's name for the video."""
    video = doc.video.path if doc.video is not None else ""
    if video:
        path = Path(video)
        # a folder of frames keeps its whole name (``clip.v2``); a file loses its extension
        return path.name if path.is_dir() or not path.suffix else path.stem
    return str(doc.metadata.get(NAME_KEY) or "export")


def default_export_path(doc: AnnotationDocument, fmt: str, folder: str | Path) -> Path:
    """Where an export of ``doc`` as ``fmt`` goes unless the user says otherwise: ``folder/bedroom.coco.json``,
    ``folder/bedroom_davis`` (one name per format, so exports in several formats keep each other)."""
    return Path(folder) / dataset_format(fmt).output_name(export_stem(doc))


@dataclass(frozen=True)
class FrameImages:
    """The video's frames as JPEGs beside a COCO or YouTube-VIS export (core.formats.frame_images).

    quality: JPEG quality, 1 to 95; overwrite: consent to replace a previous frames export there.
    """

    quality: int = DEFAULT_QUALITY
    overwrite: bool = False


def frames_to_write(doc: AnnotationDocument, fmt: str, out: str | Path,
                    stride: ExportOptions | int = 1) -> Path | None:
    """The folder an export of ``doc`` as ``fmt`` to ``out`` writes the video's frames to, or None: the
    format names no frame files, or the video is a folder holding exactly those frames already."""
    if fmt not in FORMATS_WITH_FRAMES:
        return None
    dataset = document_to_dataset(doc)
    folder = frames_folder(Path(out), dataset.name, fmt)
    video = Path(doc.video.path) if doc.video is not None and doc.video.path else None
    if video is not None and video.is_dir() and video.resolve() == folder.resolve() and all(
            (folder / f"{frame_stem(f)}.jpg").is_file() for f in export_frames(dataset, stride)):
        return None
    return folder


def export_report(doc: AnnotationDocument, fmt: str, options: ExportOptions | int = 1,
                  cancel: CancelCheck | None = None) -> list[str]:
    """What an export of ``doc`` as ``fmt`` loses, as lines for the user ([] when nothing): per object,
    the pixels a one-label-per-pixel format (DAVIS, MOTS PNG) drops where objects overlap, or the pixels
    YOLO's polygons get wrong. Reads the masks once; ``cancel`` stops it (then [])."""
    if fmt not in SINGLE_LABEL_FORMATS and fmt != "yolo":
        return []
    dataset = document_to_dataset(doc)
    frames = export_frames(dataset, options)
    if fmt == "yolo":
        return polygon_report([loss for loss in polygon_losses(dataset, frames, cancel) if loss.wrong])
    return overlap_report(overlap_losses(dataset, frames, cancel), dataset_format(fmt).title)


def _write_frames(doc: AnnotationDocument, fmt: str, out: Path, stride: ExportOptions, images: FrameImages,
                  progress: ProgressCallback | None, cancel: CancelCheck | None) -> None:
    from core.frames import FrameSourceError, open_frames  # only this export decodes video

    folder = frames_to_write(doc, fmt, out, stride)
    if folder is None:
        return
    if doc.video is None or not doc.video.path:
        raise FormatError("the project has no video linked: open it in the window to link one, then export frames")
    try:
        source = open_frames(doc.video.path, cache_mb=64)  # read once, in order: a small cache is enough
    except FrameSourceError as exc:
        raise FormatError(str(exc)) from None
    try:
        write_frames(source.get, export_frames(document_to_dataset(doc), stride), folder, images.quality,
                     images.overwrite, progress, cancel)
    except FrameSourceError as exc:
        raise FormatError(str(exc)) from None
    finally:
        source.close()


def export_document(
    doc: AnnotationDocument, fmt: str, out: str | Path, stride: ExportOptions | int = 1, overwrite: bool = False,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None, frames: FrameImages | None = None,
) -> None:
    """Export ``doc`` as ``fmt`` (see core.formats.FORMATS) to ``out``; all or nothing. Raises FormatError.

    stride: the export's options (core.formats.options.ExportOptions: stride, all frames, frame
    naming, video id), or just the stride.
    frames: also write the video's frames where the export's file names point (COCO, YouTube-VIS:
    before the JSON file, so that a JSON file in place always has its frames), or into a YOLO
    folder's images/train (after its labels, which make the folder).
    """
    out = Path(out)
    options = as_options(stride)
    if frames is None:
        export_dataset(document_to_dataset(doc), fmt, out, options, overwrite, progress, cancel)
        return
    if fmt not in FORMATS_WITH_FRAMES:
        raise FormatError(f"only COCO, YouTube-VIS and YOLO name frame files; {dataset_format(fmt).title} "
                          f"exports masks only")
    if fmt not in FRAMES_INSIDE and frame_names_style(options, document_to_dataset(doc)) != MASKLET:
        raise FormatError("the video's frames are written as NAME/00000.jpg; CVAT frame names point into "
                          "CVAT's task instead (no frames to write)")
    claim_target(out, fmt, overwrite)  # a refusal of the export comes before the frames' work
    if fmt in FRAMES_INSIDE:
        folder = frames_to_write(doc, fmt, out, options)
        if folder is not None and folder.parent.is_dir():  # refused frames refuse the export before any write
            claim_target(folder, "frames", frames.overwrite)
        export_dataset(document_to_dataset(doc), fmt, out, options, overwrite, progress, cancel)
        (out / "images").mkdir(exist_ok=True)
        _write_frames(doc, fmt, out, options, frames, progress, cancel)
        return
    _write_frames(doc, fmt, out, options, frames, progress, cancel)
    export_dataset(document_to_dataset(doc), fmt, out, options, overwrite, progress, cancel)


def import_documents(path: str | Path, fmt: str) -> list[AnnotationDocument]:
    """Every video of a dataset file as its own document (YouTube-VIS files may hold several; other
    formats give one). Raises FormatError."""
    if fmt == "ytvis":
        return [dataset_to_document(d) for d in checked_read(Path(path), fmt, lambda: read_ytvis_videos(Path(path)))]
    return [dataset_to_document(import_dataset(Path(path), fmt))]


def import_document(path: str | Path, fmt: str, video: str | Path | None = None,
                    video_id: int | None = None) -> AnnotationDocument:
    """Read a dataset as a new document; with ``video``, check it fits and link it (else linked later).
    ``video_id`` picks one video of a YouTube-VIS file holding several.

    Raises FormatError for the dataset, ProjectError for a video that does not fit.
    """
    doc = dataset_to_document(import_dataset(Path(path), fmt, video_id))
    if video is not None:
        relink_video(doc, video)
    return doc


__all__ = ["FrameImages", "dataset_to_document", "default_export_path", "document_to_dataset", "export_document",
           "export_report", "export_stem", "frames_to_write", "import_document", "import_documents"]
