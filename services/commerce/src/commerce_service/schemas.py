"""Fields every domain's schemas share: JSON integers and booleans only, and amounts in cents."""

from marshmallow import fields, validate

MAX_CENTS = 100_000_000  # one million in the currency's main unit: a bound, so sums stay far from overflow


class Int(fields.Integer):
    """A JSON integer only: no strings, floats or booleans."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


def Bool(**kwargs):  # noqa: N802 — a field factory, read like a field class
    """JSON true or false only (not "yes", 1 or "on")."""
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


def Cents(minimum: int = 0, **kwargs):  # noqa: N802
    return Int(validate=validate.Range(minimum, MAX_CENTS), **kwargs)
