"""Deploying codegen-deploy: stage settings, the Terraform driver, outputs, the `call` client."""
