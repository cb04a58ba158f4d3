"""Serve: helpers that hand the warehouse's marts to BI tools."""
