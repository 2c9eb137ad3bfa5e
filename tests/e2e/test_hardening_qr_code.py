"""Issue 9 item 2: a public project's QR code through the gateway (design §10), read back with a real decoder."""

import re
import struct
import uuid
import xml.etree.ElementTree as ET
import zlib

import pytest
import requests
import zxingcpp

SVG_NS = "{http://www.w3.org/2000/svg}"


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, one byte per pixel 0/255) of a greyscale PNG, read with the standard library only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, []
    while position < len(data):
        (length,), kind = struct.unpack(">I", data[position : position + 4]), data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        assert struct.unpack(">I", data[position + 8 + length : position + 12 + length])[0] == zlib.crc32(kind + body)
        chunks.append((kind, body))
        position += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (colour, interlace) == (0, 0) and depth in (1, 8)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = (width * depth + 7) // 8
    assert len(raw) == height * (stride + 1)
    pixels = bytearray()
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        assert line[0] == 0  # no filter: enough for the images we write
        if depth == 8:
            pixels += line[1:]
        else:
            bits = "".join(f"{byte:08b}" for byte in line[1:])[:width]
            pixels += bytes(255 if bit == "1" else 0 for bit in bits)
    return width, height, bytes(pixels)


def _svg_pixels(data: bytes, scale: int = 4) -> tuple[int, int, bytes]:
    """Rasterise segno's SVG (one path of horizontal strokes of width 1, in module units) at ``scale`` px/module."""
    root = ET.fromstring(data)  # noqa: S314 - the SVG our own service just drew, not untrusted input
    assert root.tag == f"{SVG_NS}svg"
    (path,) = root.iter(f"{SVG_NS}path")
    module_scale = float(re.fullmatch(r"scale\(([\d.]+)\)", path.get("transform", "scale(1)")).group(1))
    size = round(float(root.get("width")) / module_scale)
    assert float(root.get("height")) / module_scale == size
    dark = set()
    x = y = 0.0
    for command, number, rest in re.findall(r"([MmHhVv])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path.get("d")):
        value = float(number)
        if command in "Mm":
            dx, dy = value, float(rest)
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        elif command in "Hh":
            end = value if command == "H" else x + value
            dark.update((int(column), int(y - 0.5)) for column in range(int(x), int(end)))
            x = end
        else:
            raise AssertionError(f"unexpected path command {command}")
    pixels = bytes(
        0 if (px // scale, py // scale) in dark else 255 for py in range(size * scale) for px in range(size * scale)
    )
    return size * scale, size * scale, pixels


def _decode(width: int, height: int, pixels: bytes) -> list[str]:
    image = memoryview(pixels).cast("B", (height, width))
    return [barcode.text for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.fixture
def public_project(new_project, operator):
    return new_project(operator, type="public", status="live")


def _qr(gw, owner, project_id, kind="png", **params):
    return gw.get(f"/v1/projects/{project_id}/qr.{kind}", token=owner.token, params=params)


class TestQrCode:
    def test_svg_encodes_the_join_url(self, gw, operator, public_project):
        response = _qr(gw, operator, public_project["id"], "svg")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
        assert public_project["joinUrl"].endswith(f"/join/{public_project['id']}")
        assert _decode(*_svg_pixels(response.content)) == [public_project["joinUrl"]]

    @pytest.mark.parametrize("size", [None, 128, 131, 777, 2048])
    def test_png_is_exactly_size_pixels_and_encodes_the_join_url(self, gw, operator, public_project, size):
        response = _qr(gw, operator, public_project["id"], **({"size": size} if size else {}))
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "image/png"
        width, height, pixels = _png_pixels(response.content)
        assert (width, height) == (size or 512,) * 2
        assert _decode(width, height, pixels) == [public_project["joinUrl"]]
        # The quiet zone: every edge row and column is white.
        assert set(pixels[:width]) == set(pixels[-width:]) == {255}
        assert (
            {pixels[y * width] for y in range(height)}
            == {pixels[y * width + width - 1] for y in range(height)}
            == {255}
        )

    def test_a_draft_or_closed_public_project_has_its_code(self, gw, operator, new_project):
        draft = new_project(operator, type="public")
        assert _qr(gw, operator, draft["id"]).status_code == 200
        for status in ("live", "closed"):
            gw.patch(f"/v1/projects/{draft['id']}/status", token=operator.token, json={"status": status})
        assert _qr(gw, operator, draft["id"], "svg").status_code == 200

    @pytest.mark.parametrize("size", ["127", "2049", "512.5", "abc", "", "0x200"])
    def test_bad_sizes_are_422(self, gw, operator, public_project, size):
        response = _qr(gw, operator, public_project["id"], size=size)
        assert response.status_code == 422
        body = response.json()
        assert (body["code"], body["status"]) == (422, "Unprocessable Entity")
        assert list(body["errors"]["query"]) == ["size"]

    def test_unknown_query_parameters_are_422(self, gw, operator, public_project):
        response = _qr(gw, operator, public_project["id"], scale=4)
        assert response.status_code == 422 and "scale" in response.json()["errors"]["query"]

    @pytest.mark.parametrize("kind", ["svg", "png"])
    def test_private_project_is_409(self, gw, operator, new_project, kind):
        project = new_project(operator, type="private", status="live")
        response = _qr(gw, operator, project["id"], kind)
        assert response.status_code == 409
        body = response.json()
        assert (body["code"], body["status"]) == (409, "Conflict") and "invites" in body["message"]

    def test_a_project_made_private_loses_its_code(self, gw, operator, public_project):
        gw.patch(f"/v1/projects/{public_project['id']}", token=operator.token, json={"type": "private"})
        assert _qr(gw, operator, public_project["id"], "svg").status_code == 409

    @pytest.mark.parametrize("kind", ["svg", "png"])
    def test_tenancy_and_roles(self, gw, operator, other_operator, photographer, public_project, kind):
        assert (
            gw.post(
                f"/v1/projects/{public_project['id']}/photographers",
                token=operator.token,
                json={"photographerId": photographer.id},
            ).status_code
            == 204
        )
        for owner, status in ((other_operator, 404), (photographer, 403)):
            response = _qr(gw, owner, public_project["id"], kind)
            assert response.status_code == status
            assert response.json()["code"] == status
        assert _qr(gw, operator, str(uuid.uuid4()), kind).status_code == 404
        assert gw.get(f"/v1/projects/{public_project['id']}/qr.{kind}").status_code == 401

    def test_both_routes_are_in_the_openapi_document(self, stack):
        paths = requests.get(f"{stack.service_url('projects')}/openapi.json", timeout=10).json()["paths"]
        svg = paths["/v1/projects/{project_id}/qr.svg"]["get"]["responses"]
        png = paths["/v1/projects/{project_id}/qr.png"]["get"]
        assert set(svg) >= {"200", "404", "409"} and "image/svg+xml" in svg["200"]["content"]
        assert set(png["responses"]) >= {"200", "404", "409", "422"}
        assert "image/png" in png["responses"]["200"]["content"]
        (size,) = png["parameters"]
        assert (size["name"], size["schema"]["minimum"], size["schema"]["maximum"], size["schema"]["default"]) == (
            "size",
            128,
            2048,
            512,
        )
