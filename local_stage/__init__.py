"""The emulated AWS side of the `local` stage: the AWS emulator (moto), the HTTP API gateway,
the Lambda runtime workers and (separately) the Bedrock-compatible model server.

It runs the deployed zips in worker processes, as Lambda does; it never imports the
function's code into its own process.
"""
