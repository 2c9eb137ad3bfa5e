"""The one ``/internal`` blueprint the peers call (design §9); each domain's views put their routes on it."""

from backoffice_common.api import Blueprint

blp = Blueprint("internal", __name__, url_prefix="/internal", description="Platform feed (design §9).")
