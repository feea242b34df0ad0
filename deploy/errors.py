"""The deploy side's expected errors (their messages say what to do)."""

from layer_builder.errors import UserError


class DeployError(UserError):
    """A deploy step cannot go on; the message says why and what to do."""


class EndpointError(UserError):
    """No URL or credentials for the stage's API; the message says what to do."""
