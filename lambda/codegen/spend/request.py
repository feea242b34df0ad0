"""What a request may cost, known before the model is called."""

from codegen.generation.prompt import system_prompt
from codegen.generation.request import GenerationRequest
from codegen.settings import Settings
from codegen.spend.ledger import input_upper_bound


def spend_bound(request: GenerationRequest, settings: Settings) -> int:
    """An upper bound of the request's input tokens: its prompt's and message's bytes."""
    prompt = system_prompt(request.language, settings.system_prompt)
    return input_upper_bound(prompt, request.message)
