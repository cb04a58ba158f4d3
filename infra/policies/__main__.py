"""ShopStream guardrails policy pack: `pulumi preview --policy-pack infra/policies` (rules in guardrails.py)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from guardrails import policies
from pulumi_policy import PolicyPack

PolicyPack(name="shopstream-guardrails", policies=policies())
