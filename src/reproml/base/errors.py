"""Errors a user can fix. Entry points print their message on one line and exit non-zero."""


class ReproMLError(Exception):
    """Base class: the message says what is wrong and what to do about it."""


class ConfigError(ReproMLError, ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


class DataError(ReproMLError, RuntimeError):
    """The data set is missing, cannot be downloaded, or its files are damaged."""
