"""The one blueprint of commerce's internal routes (design §9): each domain adds its own routes to it in its
views module (quote: pricing; checkout, has-purchases: purchases; stats: stats; project deletion: projects)."""

from backoffice_common.api import Blueprint

blp = Blueprint("internal", __name__, url_prefix="/internal", description="Platform feed (design §9).")
