"""Writing the code: the request, the prompt, Bedrock, the syntax check and its repair, and
where the answer is stored."""
