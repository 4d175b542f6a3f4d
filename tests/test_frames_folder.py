"""Folders of images: natural order, mixed extensions, image modes, size mismatches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.frames import FolderFrames, FrameSourceError, fingerprint, natural_key, open_frames


def save(path: Path, value: int, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> np.ndarray:
    """Write a (h, w) = (30, 40) image whose pixels encode ``value``; returns its RGB pixels."""
    w, h = size
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[..., 0] = value
    rgb[..., 1] = np.arange(w, dtype=np.uint8)[None, :]
    rgb[..., 2] = 255 - value
    Image.fromarray(rgb).convert(mode).save(path)
    return np.asarray(Image.open(path).convert("RGB"))


def test_bedroom_frames(shared_data: Path) -> None:
    folder = shared_data / "frames" / "bedroom"
    with open_frames(folder) as src:
        assert isinstance(src, FolderFrames)
        assert (src.info.width, src.info.height, len(src)) == (960, 540, 24)
        assert src.info.fps == pytest.approx(30.0)
        for i in (23, 0, 12):
            expected = np.asarray(Image.open(folder / f"{i:05d}.jpg").convert("RGB"))
            assert np.array_equal(src.get(i), expected)
        thumb = src.thumbnail(5, 27)
        assert thumb.shape == (27, 48, 3)
    assert fingerprint(folder).startswith("sha256:")


def test_natural_sort_and_mixed_extensions(tmp_path: Path) -> None:
    names = ["frame10.png", "frame2.jpg", "frame1.PNG", "frame9.bmp", "frame100.tif", "frame11.jpeg"]
    values = {"frame1.PNG": 10, "frame2.jpg": 20, "frame9.bmp": 90, "frame10.png": 100,
              "frame11.jpeg": 110, "frame100.tif": 200}
    pixels = {n: save(tmp_path / n, values[n]) for n in names}
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"junk")
    (tmp_path / "sub").mkdir()
    with open_frames(tmp_path, folder_fps=12.5) as src:
        assert isinstance(src, FolderFrames)
        order = [p.name for p in src.files]
        assert order == ["frame1.PNG", "frame2.jpg", "frame9.bmp", "frame10.png", "frame11.jpeg", "frame100.tif"]
        assert len(src) == 6 and src.info.fps == 12.5
        for i, name in enumerate(order):
            assert np.array_equal(src.get(i), pixels[name]), name
    assert natural_key("a2b") < natural_key("a10b") < natural_key("b1")


def test_image_modes_become_rgb(tmp_path: Path) -> None:
    save(tmp_path / "0.png", 50)
    grey = save(tmp_path / "1.png", 60, mode="L")
    rgba = save(tmp_path / "2.png", 70, mode="RGBA")
    pal = save(tmp_path / "3.png", 80, mode="P")
    deep = np.full((30, 40), 0xAB00, np.uint16)
    Image.fromarray(deep).save(tmp_path / "4.png")
    with open_frames(tmp_path) as src:
        assert np.array_equal(src.get(1), grey)
        assert np.array_equal(src.get(2), rgba)
        assert np.array_equal(src.get(3), pal)
        sixteen = src.get(4)
        assert sixteen.shape == (30, 40, 3) and (sixteen == 0xAB).all()


def test_size_mismatch_and_broken_image_name_the_file(tmp_path: Path) -> None:
    save(tmp_path / "00.png", 1)
    save(tmp_path / "01.png", 2, size=(50, 30))
    (tmp_path / "02.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    with open_frames(tmp_path) as src:
        with pytest.raises(FrameSourceError, match=r"01\.png: image is 50x30, but the first frame \(00\.png\) is 40x30"):
            src.get(1)
        with pytest.raises(FrameSourceError, match=r"02\.jpg: not a readable image"):
            src.get(2)


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no frames here")
    with pytest.raises(FrameSourceError, match="no images in this folder") as err:
        open_frames(tmp_path)
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)
