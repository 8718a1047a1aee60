"""Images for the poster tests, made with Pillow on the spot: each test says what it feeds in."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

from PIL import Image

# EXIF tags (TIFF numbers): the camera's orientation, and the pointer to the GPS block.
ORIENTATION = 0x0112
GPS_IFD = 0x8825


def encoded(
    kind: str = "JPEG",
    size: tuple[int, int] = (600, 400),
    *,
    mode: str = "RGB",
    color: Any = (180, 30, 40),
    **options: Any,
) -> bytes:
    """A plain image of `size` in the format `kind` (PNG, JPEG, WEBP, GIF), saved with `options`."""
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, kind, **options)
    return buffer.getvalue()


def halves(size: tuple[int, int], left: Any, right: Any) -> Image.Image:
    """An image whose left half is `left` and right half `right`: shows which way it was turned."""
    image = Image.new("RGB", size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def with_gps(kind: str = "JPEG", size: tuple[int, int] = (600, 400), **options: Any) -> bytes:
    """A photo as a phone takes it: EXIF with a camera model and where it was taken."""
    image = Image.new("RGB", size, (20, 120, 200))
    exif = image.getexif()
    exif[0x0110] = "Telefono 12"  # Model
    exif[GPS_IFD] = {1: "N", 2: (45.0, 27.0, 50.0), 3: "E", 4: (9.0, 11.0, 25.0)}  # Milano
    buffer = io.BytesIO()
    image.save(buffer, kind, exif=exif.tobytes(), **options)
    return buffer.getvalue()


def oriented(orientation: int, image: Image.Image) -> bytes:
    """`image` as a JPEG whose EXIF says to turn it (6: 90 degrees clockwise) to show it."""
    exif = image.getexif()
    exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A PNG a few hundred bytes long whose header claims `width` x `height` 1-bit pixels: what
    a decoder would have to make room for if it believed it (the rows are zeros, compressed)."""
    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    rows = packer.compress(row * min(height, 64)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
