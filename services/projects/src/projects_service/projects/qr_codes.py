"""A public project's QR code (design §10): its join URL as an SVG, or as a PNG of exactly N×N pixels."""

from __future__ import annotations

import io
import struct
import uuid
import zlib

import segno
from sqlalchemy.orm import Session

from backoffice_common.errors import Conflict, Unprocessable, field_error
from projects_service.projects.listing import join_url
from projects_service.projects.rules import owned_project

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks
SVG_SCALE = 8  # the SVG's nominal pixels per module; it is a vector drawing and scales to any size
PNG_SIZES = (128, 2048)
PNG_DEFAULT_SIZE = 512


def public_join_url(*, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, join_base_url: str) -> str:
    """The URL the QR code opens; a private project has none (it is joined through invites) → 409."""
    project = owned_project(session, operator_id, project_id)
    if project.type != "public":
        raise Conflict("A private project is joined through email invites; it has no public link or QR code.")
    return join_url(join_base_url, project.id)


def project_qr_svg(*, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, join_base_url: str) -> bytes:
    return qr_svg(
        public_join_url(session=session, operator_id=operator_id, project_id=project_id, join_base_url=join_base_url)
    )


def project_qr_png(
    *, session: Session, operator_id: uuid.UUID, project_id: uuid.UUID, join_base_url: str, size: int
) -> bytes:
    return qr_png(
        public_join_url(session=session, operator_id=operator_id, project_id=project_id, join_base_url=join_base_url),
        size,
    )


def _code(content: str) -> segno.QRCode:
    # Level M at least (segno raises it when that costs no extra modules): a printed code survives some wear.
    return segno.make(content, error="m", micro=False)


def qr_svg(content: str) -> bytes:
    out = io.BytesIO()
    _code(content).save(out, kind="svg", scale=SVG_SCALE, border=QUIET_ZONE)
    return out.getvalue()


def png_layout(modules: int, size: int) -> tuple[int, int]:
    """(pixels per module, pixels of white left of and above the code) for a PNG exactly ``size`` pixels wide.

    Modules stay whole pixels (a scanner wants every module the same size), so the scale is the largest
    that leaves the standard quiet zone; the pixels left over widen the quiet zone, split evenly (the odd
    one goes right and below). A code too large for ``size`` → 422.
    """
    scale = size // (modules + 2 * QUIET_ZONE)
    if scale < 1:
        raise field_error(
            "size",
            f"The code needs at least {modules + 2 * QUIET_ZONE} pixels.",
            location="query",
            summary=Unprocessable.default_message,
        )
    return scale, (size - modules * scale) // 2


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def qr_png(content: str, size: int = PNG_DEFAULT_SIZE) -> bytes:
    """A 1-bit greyscale PNG of ``size``×``size`` pixels (dark modules black, the rest white).

    segno encodes the code; its own PNG writer can only add whole modules of border, so its image is a
    multiple of the module count. We write the PNG from segno's matrix instead, to hit the size asked for.
    """
    matrix = list(_code(content).matrix_iter(scale=1, border=0))
    scale, margin = png_layout(len(matrix), size)
    width_bytes = (size + 7) // 8
    pad = width_bytes * 8 - size  # PNG rows end on a byte; the spare bits are ignored by readers

    def scanline(bits: str) -> bytes:
        # Filter type 0, then the row packed 8 pixels a byte (1 = white in greyscale).
        return b"\x00" + int(bits + "1" * pad, 2).to_bytes(width_bytes, "big")

    white = scanline("1" * size)
    left, right = "1" * margin, "1" * (size - margin - len(matrix) * scale)
    rows = [white] * margin
    for row in matrix:
        line = scanline(left + "".join(("0" if dark else "1") * scale for dark in row) + right)
        rows.extend([line] * scale)
    rows.extend([white] * (size - len(rows)))
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)  # 1 bit, greyscale, deflate, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
        + _chunk(b"IEND", b"")
    )
