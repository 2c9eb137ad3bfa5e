"""Field validators more than one service needs."""

import zoneinfo
from functools import lru_cache

from marshmallow import ValidationError


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def iana_timezone(value: str) -> None:
    if value not in _timezones():
        raise ValidationError("Must be an IANA time zone name, such as Europe/Paris.")
