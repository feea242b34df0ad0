"""A Bedrock-compatible model server for the local stage.

It speaks the bedrock-runtime wire protocol boto3 uses (Converse, ConverseStream, and
InvokeModel with an Anthropic messages body) and answers with a real local model: a GGUF file
run by llama.cpp (SmolLM2-135M-Instruct by default), or an OpenAI-compatible server the user
already runs. The function reaches it through AWS_ENDPOINT_URL_BEDROCK_RUNTIME, unchanged.
"""
