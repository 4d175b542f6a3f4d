"""Bad input gives one FrameSourceError line naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.frames import FrameSourceError, open_frames
from tests.test_frames_synthetic import write_video


def one_line(err: pytest.ExceptionInfo[FrameSourceError], path: Path) -> str:
    text = str(err.value)
    assert "\n" not in text and str(path) in text, text
    assert isinstance(err.value, ValueError)
    return text


def test_garbage_bytes(tmp_path: Path) -> None:
    path = tmp_path / "garbage.mp4"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(FrameSourceError) as err:
        open_frames(path)
    assert "not a readable video" in one_line(err, path)


@pytest.mark.parametrize(
    "name,keep,says",
    [
        ("01_dog.mp4", 0.6, "truncated or damaged, the file has 1043382 bytes but its frames run to byte"),
        ("01_dog.mp4", 0.003, "truncated or damaged, the file has 5216 bytes"),  # cut inside the sample table
        ("05_default_juggle.mp4", 0.999, "truncated or damaged"),  # only the last frame is short
        ("bedroom.mp4", 0.6, "not a readable video"),  # its sample table (moov) sits at the end: gone
    ],
)
def test_truncated_copy_of_a_shared_video(shared_data: Path, tmp_path: Path, name: str, keep: float, says: str) -> None:
    data = (shared_data / "videos" / name).read_bytes()
    path = tmp_path / f"cut_{name}"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(FrameSourceError) as err:
        open_frames(path)
    assert says in one_line(err, path)


@pytest.mark.parametrize("name,codec,says", [
    ("cut.mkv", "libx264", "its Matroska segment runs to byte"),  # the segment's declared size tells
    ("cut.webm", "libvpx-vp9", "its Matroska segment runs to byte"),
    ("cut.avi", "mpeg4", "frame data breaks off at frame"),
])
def test_truncated_containers_without_a_sample_table(tmp_path: Path, name: str, codec: str, says: str) -> None:
    whole = write_video(tmp_path / f"whole{Path(name).suffix}", 60, codec=codec)
    with open_frames(whole) as src:
        assert len(src) == 60
    data = whole.read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(FrameSourceError) as err:
        open_frames(path)
    assert says in one_line(err, path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.mp4"
    with pytest.raises(FrameSourceError) as err:
        open_frames(path)
    assert "no such file or folder" in one_line(err, path)


def test_unsupported_file_type_and_single_image(tmp_path: Path) -> None:
    doc = tmp_path / "notes.txt"
    doc.write_text("hello")
    with pytest.raises(FrameSourceError) as err:
        open_frames(doc)
    assert "unsupported file type '.txt'" in one_line(err, doc)
    img = tmp_path / "a.png"
    img.write_bytes(b"x")
    with pytest.raises(FrameSourceError) as err:
        open_frames(img)
    assert "open the folder" in one_line(err, img)


def test_video_without_a_video_stream(tmp_path: Path) -> None:
    import av
    import numpy as np

    path = tmp_path / "sound.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with pytest.raises(FrameSourceError) as err:
        open_frames(path)
    assert "no video stream" in one_line(err, path)


def test_closed_source_says_so(shared_data: Path) -> None:
    src = open_frames(shared_data / "frames" / "bedroom")
    src.close()
    with pytest.raises(FrameSourceError, match="closed"):
        src.get(1)
