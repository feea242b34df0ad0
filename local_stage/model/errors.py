"""Bedrock's error codes and HTTP statuses, so boto3 raises what it raises against AWS."""


class BedrockError(Exception):
    """An error answered with Bedrock's code (X-Amzn-ErrorType) and HTTP status."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


def validation(message: str) -> BedrockError:
    return BedrockError("ValidationException", 400, message)


def throttled(message: str = "Too many requests, please wait before trying again.") -> BedrockError:
    return BedrockError("ThrottlingException", 429, message)


def model_timeout(message: str) -> BedrockError:
    return BedrockError("ModelTimeoutException", 408, message)


def model_error(message: str) -> BedrockError:
    return BedrockError("ModelErrorException", 424, message)


def unavailable(message: str) -> BedrockError:
    return BedrockError("ServiceUnavailableException", 503, message)


def access_denied(message: str) -> BedrockError:
    return BedrockError("AccessDeniedException", 403, message)


def not_found(message: str) -> BedrockError:
    return BedrockError("ResourceNotFoundException", 404, message)


def internal(message: str = "The server encountered an internal error.") -> BedrockError:
    return BedrockError("InternalServerException", 500, message)
