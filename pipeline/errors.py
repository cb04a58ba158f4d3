"""Errors a user can act on. The CLI prints them as one line and exits non-zero, without a traceback."""


class ShopstreamError(Exception):
    """A failure with a message that tells the user what to do next."""

    exit_code = 1


class ConfigError(ShopstreamError):
    """Settings are missing or malformed (unknown stack, bad outputs file, missing credentials)."""

    exit_code = 2
