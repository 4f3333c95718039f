"""The one family of errors for the user's mistakes.

Every message says what is wrong and what to do about it. Pages and the CLI catch
`RnnlabError` and show its message; anything else is a bug.
"""


class RnnlabError(Exception):
    """A mistake the user can fix: bad file, bad column, bad setting, unknown run."""


class DataError(RnnlabError):
    """The data file cannot be used as it is."""


class ConfigError(RnnlabError):
    """A setting is out of range or inconsistent with another one."""


class RunNotFound(RnnlabError):
    """No run with that id exists in the store."""


class StoreError(RnnlabError):
    """The run store cannot be read or written (disk full, no permission, corrupted)."""


class CheckpointError(RnnlabError):
    """A checkpoint is missing or damaged, so the run cannot be resumed."""
