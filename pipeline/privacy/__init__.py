"""Privacy and governance: the personal-data inventory, erasure of a person (`shopstream forget`), the audit
register, the salted person key and the data-quality report."""
