"""The code-generation Lambda function."""
