"""What the dashboard shows of a person: masked by default, in clear only for a reader entitled to it.

Locally nothing authenticates the reader, so the operator who starts the dashboard decides with
$SHOPSTREAM_DASHBOARD_SHOW_PII=1. On Snowflake the masking policies apply first: a reader without the PII role
receives masked values whatever this setting says.
"""

from __future__ import annotations

import pandas as pd

from pipeline.settings import Environment


def show_personal_data() -> bool:
    return Environment.read().show_pii


def mask_email(email: str | None) -> str | None:
    """ana.lopez@example.com → a•••@example.com (enough to tell a domain, not a person)."""
    if not email or "@" not in email:
        return email
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}•••@{domain}"


def mask_name(name: str | None) -> str | None:
    """Ana López → A. L."""
    if not name:
        return name
    return " ".join(f"{part[0]}." for part in name.split())


def mask_people(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its `email` and `customer_name` columns masked, unless personal data may be shown."""
    if show_personal_data():
        return frame
    masked = frame.copy()
    if "email" in masked:
        masked["email"] = masked["email"].map(mask_email)
    if "customer_name" in masked:
        masked["customer_name"] = masked["customer_name"].map(mask_name)
    return masked
