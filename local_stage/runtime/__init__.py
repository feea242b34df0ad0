"""Run deployed functions in worker processes with the real Lambda runtime client, speaking
the Lambda Runtime API to a server in the local stage process."""
