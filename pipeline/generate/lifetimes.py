"""Why customers leave: per-user traits that drive churn, and the moment each user stops buying and visiting.

The generative story (docs/source-and-generate.md, "Churn"):
- every user has a buying propensity (how often they order while they are a customer), an engagement (how often
  they browse the shop) and, for some, friction (a poor experience: failed payments, late parcels);
- a user stays a customer for an exponentially distributed lifetime after signing up; the hazard of leaving is
  lower on paid plans, lower for engaged users and higher with friction;
- after that moment they place no order and start no web session;
- friction also makes their orders more likely to end up cancelled, so cancellations are a visible sign of it.
A churn model therefore has something to learn beyond recency: plan, browsing activity and cancellations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.generate import pools as P
from pipeline.generate.calendar import DAY_S

MEAN_LIFETIME_DAYS = 300  # a freemium user with average engagement and no friction
MIN_LIFETIME_DAYS = 7
PLAN_HAZARD = {"freemium": 1.0, "premium": 0.45, "enterprise": 0.25}
FRICTION_SHARE = 0.30
FRICTION_HAZARD = 4.0
ENGAGEMENT_SIGMA = 0.8  # lognormal spread of engagement
ENGAGEMENT_HAZARD_EXPONENT = 0.7  # hazard ∝ engagement^-0.7: engaged users stay longer
FRICTION_CANCEL_WEIGHT = 10.0  # a user with friction sees 10x as many cancelled orders
REDRAWS = 60  # attempts to find a user who is still a customer at a moment


@dataclass(frozen=True)
class Traits:
    plan: np.ndarray  # index into PLAN_TYPES
    engagement: np.ndarray  # > 0, mean about 1.4
    friction: np.ndarray  # bool
    left_at: np.ndarray  # epoch seconds: the moment the user stops being a customer (may be after the window)


def draw_traits(rng: np.random.Generator, created: np.ndarray) -> Traits:
    """Plan, engagement, friction and the moment each user leaves, for users who signed up at `created`."""
    n = created.size
    plan = rng.choice(len(P.PLAN_TYPES), size=n, p=P.shares(P.PLAN_TYPES))
    engagement = rng.lognormal(0.0, ENGAGEMENT_SIGMA, size=n)
    friction = rng.random(n) < FRICTION_SHARE
    plan_hazard = np.array([PLAN_HAZARD[label] for label in P.labels(P.PLAN_TYPES)])[plan]
    hazard = plan_hazard * engagement**-ENGAGEMENT_HAZARD_EXPONENT * np.where(friction, FRICTION_HAZARD, 1.0)
    lifetime_days = np.maximum(rng.exponential(MEAN_LIFETIME_DAYS / hazard), MIN_LIFETIME_DAYS)
    left_at = created + (lifetime_days * DAY_S).astype(np.int64)
    return Traits(plan=plan, engagement=engagement, friction=friction, left_at=left_at)


def cancel_probability(friction: np.ndarray, overall_share: float) -> np.ndarray:
    """Per-order chance of cancellation: higher for users with friction, `overall_share` on average."""
    weight = np.where(friction, FRICTION_CANCEL_WEIGHT, 1.0)
    return np.clip(overall_share * weight / weight.mean(), 0.0, 0.95)
