"""The QR code's PNG layout (design §10): exactly size×size pixels, whole-pixel modules, at least the quiet zone."""

import struct

import pytest
import segno

from backoffice_common.errors import Unprocessable
from projects_service.projects import qr_codes

URL = "http://localhost:3000/join/0b7f5c5e-1c55-4f5e-9f1e-1f0e0e0e0e0e"


@pytest.mark.parametrize("modules", [21, 37, 101])
@pytest.mark.parametrize("size", [128, 129, 131, 512, 1000, 2047, 2048])
def test_layout_fills_the_size_with_whole_modules_and_a_quiet_zone(modules, size):
    scale, margin = qr_codes.png_layout(modules, size)
    assert scale == size // (modules + 8)  # the largest whole scale that leaves 4 modules of quiet zone
    assert margin >= 4 * scale and size - margin - modules * scale >= 4 * scale
    assert size - margin - modules * scale - margin in (0, 1)


def test_a_code_too_big_for_the_size_is_422():
    with pytest.raises(Unprocessable) as refused:
        qr_codes.png_layout(177, 128)
    assert refused.value.errors == {"query": {"size": ["The code needs at least 185 pixels."]}}


@pytest.mark.parametrize("size", [128, 333, 2048])
def test_png_header_says_size_by_size(size):
    png = qr_codes.qr_png(URL, size)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (size, size)


def test_svg_is_segnos_drawing_of_the_url():
    expected = segno.make(URL, error="m", micro=False)
    svg = qr_codes.qr_svg(URL).decode()
    width = (expected.symbol_size(scale=1, border=4)[0]) * qr_codes.SVG_SCALE
    assert svg.startswith("<?xml") and f'width="{width}" height="{width}"' in svg
