"""The HTTP side: the event API Gateway sends, the route table, responses, errors and
idempotency, and the service that answers each route."""
