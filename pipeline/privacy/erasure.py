"""What erasing a person does to each source column: one definition for `forget` and the inventory.

A user's row stays (orders reference it and are kept for accounting) but loses everything identifying; a CRM
contact is deleted outright. Country and plan stay: once the email and names are gone they describe a cohort,
not a person, and revenue by country or plan must not change when someone is forgotten.
"""

from __future__ import annotations

ERASED_EMAIL_DOMAIN = "erased.invalid"  # RFC 2606: never a deliverable address


def erased_email(request_id: str) -> str:
    """The unique placeholder that replaces an erased user's email (the column is NOT NULL and UNIQUE)."""
    return f"erased+{request_id}@{ERASED_EMAIL_DOMAIN}"


# users column → its value after erasure (None: NULL; "{email}": the placeholder above)
USER_ERASURE: dict[str, str | None] = {"email": "{email}", "first_name": None, "last_name": None, "last_login": None}
# Source tables whose rows are deleted when their email is the person's.
DELETED_BY_EMAIL = ("crm_contacts",)

SOURCE_ACTIONS: dict[tuple[str, str], str] = {
    ("users", "id"): "kept (orders stay for accounting); nothing identifies the person behind it after erasure",
    ("users", "email"): "replaced by `erased+<request>@erased.invalid`",
    ("users", "first_name"): "set to NULL",
    ("users", "last_name"): "set to NULL",
    ("users", "last_login"): "set to NULL",
    ("users", "country"): "kept: a cohort attribute once email and names are gone",
    ("orders", "user_id"): "kept: points to the anonymised user",
    ("events", "user_id"): "kept: points to the anonymised user",
    ("events", "metadata"): "kept: session, device and page only, pointing to the anonymised user",
    ("crm_contacts", "email"): "row deleted",
    ("crm_contacts", "first_name"): "row deleted",
    ("crm_contacts", "last_name"): "row deleted",
}
