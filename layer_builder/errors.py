"""Errors a user can fix. `UserError` is the base of every expected error in the tooling
(build, deploy, local stage): its message says what was wrong and what to do, and `tasks.py`
turns it into that message and exit code 1 in one place. It lives here because this package
depends on nothing else of ours, so every other package can import it."""


class UserError(Exception):
    """An expected failure with a message fit for the user; anything else is a bug."""


class BuildError(UserError):
    """A build could not be done; nothing partial was left in the output directory."""
