"""Between the annotation document and the dataset formats: export a document, import a dataset.

The document's masks go out as they are (RLE, no decoding except where a PNG needs pixels);
frames a person prompted or edited count as SA-V's "edited" frames. Imported masks are
marked ``imported``; dataset-level extras (SA-V's video id, environment, split) live in the
document's metadata and per-object extras in its attributes, so a re-export writes them back.
"""

from __future__ import annotations

from pathlib import Path

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, ObjectRecord, VideoRef, color_for
from annotator.project import relink_video
from core.formats import Dataset, FormatError, Track, dataset_format, export_dataset, import_dataset
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
            attributes=dict(record.attributes),
        ))
    attributes = {k: v for k, v in doc.metadata.items() if k != NAME_KEY}
    return Dataset(name=name, width=video.width, height=video.height, frame_count=video.frame_count,
                   fps=video.fps, tracks=tracks, attributes=attributes)


def dataset_to_document(dataset: Dataset) -> AnnotationDocument:
    """A document of a dataset's tracks, its video known only by size and length (no path yet)."""
    dataset.check_masks()  # so the masks can go straight into the document's dicts
    doc = AnnotationDocument(VideoRef("", dataset.width, dataset.height, dataset.frame_count, dataset.fps))
    doc.metadata = {NAME_KEY: dataset.name, **dataset.attributes}
    for track in sorted(dataset.tracks, key=lambda t: t.track_id):
        doc.put_object(ObjectRecord(
            obj_id=track.track_id, name=track.name, category=track.category,
            color=color_for(track.track_id), attributes=dict(track.attributes),
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


def export_document(
    doc: AnnotationDocument, fmt: str, out: str | Path, stride: int = 1, overwrite: bool = False,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> None:
    """Export ``doc`` as ``fmt`` (see core.formats.FORMATS) to ``out``; all or nothing. Raises FormatError."""
    export_dataset(document_to_dataset(doc), fmt, Path(out), stride, overwrite, progress, cancel)


def import_document(path: str | Path, fmt: str, video: str | Path | None = None) -> AnnotationDocument:
    """Read a dataset as a new document; with ``video``, check it fits and link it (else linked later).

    Raises FormatError for the dataset, ProjectError for a video that does not fit.
    """
    doc = dataset_to_document(import_dataset(Path(path), fmt))
    if video is not None:
        relink_video(doc, video)
    return doc


__all__ = ["dataset_to_document", "default_export_path", "document_to_dataset", "export_document", "export_stem",
           "import_document"]
