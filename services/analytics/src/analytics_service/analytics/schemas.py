import datetime as dt
import re
import uuid

from marshmallow import ValidationError, fields, validate

from backoffice_common.api import Schema
from backoffice_common.buckets import INTERVALS

REPEATED = "Give this parameter once, with comma-separated UUIDs."


class UuidList(fields.Field):
    """A query parameter of comma-separated UUIDs (``?projectIds=a,b``); malformed → 422 naming the value.

    Given more than once (``?projectIds=a&projectIds=b``) → 422: webargs would otherwise pass on the first value
    alone, and the answer would silently leave out what the caller meant to include.
    """

    is_multiple = True  # webargs hands over every value given, so a repeat can be refused

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, list):
            if len(value) != 1:
                raise ValidationError(REPEATED)
            value = value[0]
        if not isinstance(value, str):
            raise ValidationError("Must be comma-separated UUIDs.")
        ids, bad = [], []
        for part in (part.strip() for part in value.split(",")):
            if not part:
                continue
            try:
                ids.append(uuid.UUID(part))
            except ValueError:
                bad.append(part)
        if bad:
            raise ValidationError(f"Not UUIDs: {', '.join(bad[:10])}.")
        if len(ids) > 1000:
            raise ValidationError("At most 1000 ids.")
        return list(dict.fromkeys(ids)) or None  # an empty parameter filters nothing, like an absent one


class AnalyticsQueryArgsSchema(Schema):
    project_ids = UuidList(load_default=None)
    photographer_ids = UuidList(load_default=None)


ONCE = "Give this parameter once."
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _once(value):
    """The one value of a query parameter webargs hands over as a list (``is_multiple``): given twice → 422, where
    webargs would otherwise keep the first value alone."""
    if isinstance(value, list):
        if len(value) != 1:
            raise ValidationError(ONCE)
        value = value[0]
    return value


class CalendarDate(fields.Date):
    """A query parameter ``YYYY-MM-DD``, given once: a day of the operator's calendar (design §11)."""

    is_multiple = True

    def _deserialize(self, value, attr, data, **kwargs):
        value = _once(value)
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            raise ValidationError("Must be a date, YYYY-MM-DD.")
        try:
            day = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError("Must be a date of the calendar, YYYY-MM-DD.") from exc
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError(f"Must be between {FIRST_DAY} and {LAST_DAY}.")
        return day


class OnceString(fields.String):
    """A query parameter's text, given once."""

    is_multiple = True

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(_once(value), attr, data, **kwargs)


class TimeseriesQueryArgsSchema(AnalyticsQueryArgsSchema):
    """§7's filters, and the window: ``from``/``to`` inclusive (default: the 30 days ending today), by ``interval``."""

    start = CalendarDate(
        data_key="from", load_default=None, metadata={"description": "First day (default: to − 29 days)."}
    )
    end = CalendarDate(data_key="to", load_default=None, metadata={"description": "Last day (default: today)."})
    interval = OnceString(load_default="day", validate=validate.OneOf(INTERVALS))


class TimeseriesPointSchema(Schema):
    start = fields.Date()
    members_enrolled = fields.Integer()
    photos_uploaded = fields.Integer()
    purchases_made = fields.Integer()
    revenue_in_cents = fields.Integer()


class TimeseriesSchema(Schema):
    interval = fields.String()
    timezone = fields.String()
    points = fields.List(fields.Nested(TimeseriesPointSchema))


class KpisSchema(Schema):
    members_enrolled = fields.Integer()
    revenue_in_cents = fields.Integer()
    photos_uploaded = fields.Integer()
    users_tagged = fields.Integer()
    purchases_made = fields.Integer()


class PhotographerPhotosSchema(Schema):
    """One of projects' ``photosByPhotographer`` rows, as it comes."""

    name = fields.String()
    photo_count = fields.Integer(attribute="photoCount")


class ProjectRevenueSchema(Schema):
    project_name = fields.String()
    purchases_made = fields.Integer()
    revenue_in_cents = fields.Integer()


class FunnelSchema(Schema):
    invited = fields.Integer()
    enrolled = fields.Integer()
    tagged = fields.Integer()
    purchased = fields.Integer()


class AnalyticsSchema(Schema):
    kpis = fields.Nested(KpisSchema)
    photos_by_photographer = fields.List(fields.Nested(PhotographerPhotosSchema))
    revenue_by_project = fields.List(fields.Nested(ProjectRevenueSchema))
    conversion_funnel = fields.Nested(FunnelSchema)
