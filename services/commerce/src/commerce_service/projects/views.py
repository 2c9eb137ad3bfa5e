import uuid

from flask.views import MethodView

from backoffice_common.db import db
from backoffice_common.internal import internal_only
from backoffice_common.service import dependency
from commerce_service.clients.projects import ProjectsClient
from commerce_service.internal import blp
from commerce_service.projects.rules import project_deleted


@blp.route("/projects/<uuid:project_id>")
class DeletedProject(MethodView):
    decorators = [internal_only]

    @blp.response(204)
    def delete(self, project_id: uuid.UUID):
        """Drop a deleted project's pricing rules and discount links (idempotent)"""
        with db.unit_of_work() as session:
            project_deleted(session=session, project_id=project_id)
        dependency(ProjectsClient).forget(project_id)
