"""Plain functions that make commerce's own rows (``make_purchase(session, **overrides)`` …), and the projects
service's answers as plain values for the rule tests (``StandInProjects``): a rule is tested on what the peer
client says, not on the peer's database — the end-to-end suite covers the real projects service.

Loaded by conftest, which hands these out as fixtures (``--import-mode=importlib`` puts no test folder on the path).
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from commerce_service.clients.projects import CheckoutFacts, ProjectRef
from commerce_service.models import Discount, PricingRule, PromoCode, Purchase, PurchaseItem


class StandInProjects:
    """What commerce's ProjectsClient would answer, held in memory: projects, their members and ready photos.

    Its ``client`` is itself: it answers ``get_project``, ``checkout_facts`` and ``forget`` as the real client does.
    """

    def __init__(self):
        self.projects: dict[uuid.UUID, ProjectRef] = {}
        self.members: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self.photos: dict[uuid.UUID, dict[uuid.UUID, uuid.UUID]] = {}  # project → ready photo → photographer

    @property
    def client(self) -> StandInProjects:
        return self

    def add(self, operator_id: uuid.UUID, name: str = "Summer Gala", status: str = "live") -> ProjectRef:
        project = ProjectRef(id=uuid.uuid4(), operator_id=operator_id, name=name, status=status)
        self.projects[project.id] = project
        self.photos[project.id] = {}
        return project

    def add_member(self, project_id: uuid.UUID, participant_id: uuid.UUID) -> None:
        self.members.add((project_id, participant_id))

    def add_photos(self, project_id: uuid.UUID, photographer_id: uuid.UUID, count: int = 1) -> list[uuid.UUID]:
        ids = [uuid.uuid4() for _ in range(count)]
        self.photos[project_id].update({photo_id: photographer_id for photo_id in ids})
        return ids

    def get_project(self, project_id: uuid.UUID) -> ProjectRef | None:
        return self.projects.get(project_id)

    def checkout_facts(
        self, project_id: uuid.UUID, participant_id: uuid.UUID, photo_ids: list[uuid.UUID]
    ) -> CheckoutFacts | None:
        project = self.projects.get(project_id)
        if project is None:
            return None
        ready = self.photos[project_id]
        return CheckoutFacts(
            project=project,
            member=(project_id, participant_id) in self.members,
            photographers={photo_id: ready[photo_id] for photo_id in photo_ids if photo_id in ready},
        )

    def forget(self, project_id: uuid.UUID) -> None:
        pass  # nothing cached


def make_pricing_rule(session: Session, **overrides) -> PricingRule:
    rule = PricingRule(
        **{
            "id": uuid.uuid4(),
            "operator_id": uuid.uuid4(),
            "project_id": None,
            "price_per_photo_cents": 500,
            "is_active": True,
            **overrides,
        }
    )
    session.add(rule)
    session.flush()
    return rule


def make_discount(session: Session, **overrides) -> Discount:
    discount = Discount(
        **{
            "id": uuid.uuid4(),
            "operator_id": uuid.uuid4(),
            "name": "Ten off",
            "type": "percentage",
            "value": 10,
            "is_active": True,
            **overrides,
        }
    )
    session.add(discount)
    session.flush()
    return discount


def make_promo_code(session: Session, **overrides) -> PromoCode:
    if "discount_id" not in overrides:
        operator_id = overrides.setdefault("operator_id", uuid.uuid4())
        overrides["discount_id"] = make_discount(session, operator_id=operator_id).id
    promo_code = PromoCode(
        **{
            "id": uuid.uuid4(),
            "operator_id": uuid.uuid4(),
            "code": "TEN",
            "times_used": 0,
            "is_active": True,
            **overrides,
        }
    )
    session.add(promo_code)
    session.flush()
    return promo_code


def make_purchase(
    session: Session, *, shares: list[int] | None = None, photographer_id: uuid.UUID | None = None, **overrides
) -> Purchase:
    """A purchase (pending, 500 EUR for one photo unless overridden) and one item per share of its total."""
    total = overrides.get("total_cents", 500)
    purchase = Purchase(
        **{
            "id": uuid.uuid4(),
            "operator_id": uuid.uuid4(),
            "project_id": uuid.uuid4(),
            "project_name": "Gala",
            "participant_id": uuid.uuid4(),
            "participant_email": "p@example.com",
            "participant_name": "P",
            "status": "pending",
            "photo_count": len(shares) if shares else 1,
            "price_per_photo_cents": total,
            "subtotal_cents": total,
            "discount_applied_cents": 0,
            "total_cents": total,
            "currency": "EUR",
            **overrides,
        }
    )
    session.add(purchase)
    session.flush()
    if shares is not None:
        session.add_all(
            [
                PurchaseItem(
                    purchase_id=purchase.id,
                    photo_id=uuid.uuid4(),
                    photographer_id=photographer_id or uuid.uuid4(),
                    share_cents=share,
                )
                for share in shares
            ]
        )
        session.flush()
    return purchase
