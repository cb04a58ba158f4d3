"""Classroom: one roster provisions, hands out, checks and tears down a whole class of cloud stacks.

roster.py   the CSV of students, checked as a whole
plan.py     what `up` will do for each student (names, data variant, config), computed offline
state.py    the instructor's files for a cohort (salt, logs, hand-outs), private on disk
keys.py     the students' RSA key pairs for Snowflake key-pair sign-in
automation.py  the one adapter over Pulumi's Automation API
runner.py   bounded-parallel provisioning and teardown with retries
handout.py  what each student receives
cli.py      `shopstream classroom ...`
"""
