"""ShopStream guardrails policy pack: `pulumi preview --policy-pack infra/policies` (rules in guardrails.py)."""

from pulumi_policy import PolicyPack

# The rules are part of the installed `infra` package (PulumiPolicy.yaml runs the pack in the project's virtualenv).
from infra.policies.guardrails import policies

PolicyPack(name="shopstream-guardrails", policies=policies())
