"""The one error type the builder raises: its message says what was wrong and how to fix it."""


class BuildError(Exception):
    """A build could not be done; nothing partial was left in the output directory."""
