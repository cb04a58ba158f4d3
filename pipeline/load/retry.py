"""Wait out IAM propagation: a role created by `pulumi up` takes 10-30 s (sometimes longer) before Snowflake's
storage integration may assume it. Until then LIST/COPY on the stage fail with "Error assuming AWS_ROLE";
the loader retries them with exponential backoff instead of failing a first run right after `up`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from pipeline.errors import ShopstreamError

T = TypeVar("T")

# What Snowflake says while AWS has not yet propagated the role or its trust policy.
ROLE_NOT_ASSUMABLE = ("error assuming aws_role", "not authorized to perform: sts:assumerole")
ATTEMPTS = 6
FIRST_DELAY_S = 2.0  # 2 + 4 + 8 + 16 + 32 = 62 s of waiting in all


def is_role_propagation_error(exc: BaseException) -> bool:
    message = str(exc).lower()
    return any(marker in message for marker in ROLE_NOT_ASSUMABLE)


def retry_while_role_propagates(
    action: Callable[[], T],
    what: str,
    *,
    attempts: int = ATTEMPTS,
    first_delay: float = FIRST_DELAY_S,
    sleep: Callable[[float], None] | None = None,
    on_retry: Callable[[int, float], None] | None = None,
) -> T:
    """Run `action`; while it fails because the lake role is not assumable yet, wait (doubling) and run it again.

    `action` must be safe to repeat (the loader rolls its transaction back before the error reaches here).
    """
    sleep = sleep or time.sleep
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if not is_role_propagation_error(exc):
                raise
            if attempt == attempts:
                waited = first_delay * (2 ** (attempts - 1) - 1)
                raise ShopstreamError(
                    f"{what}: Snowflake still cannot assume the lake's IAM role after {attempts} tries over "
                    f"{waited:.0f} s; check the role's trust policy (IAM user and external id of the storage "
                    "integration) or run `pulumi up` again"
                ) from None
            if on_retry:
                on_retry(attempt, delay)
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
