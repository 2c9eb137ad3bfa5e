import pytest

from projects_service.photos.rules import _safe_name


@pytest.mark.parametrize(
    "filename, safe",
    [("IMG 0001.JPG", "IMG-0001.JPG"), ("../../etc/passwd", "passwd"), ("été.jpg", "t-.jpg"), ("...", "photo")],
)
def test_object_names_are_safe(filename, safe):
    assert _safe_name(filename) == safe
