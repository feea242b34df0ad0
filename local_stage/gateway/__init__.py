"""The local HTTP API gateway: serves what Terraform created in the emulator, following
API Gateway HTTP API rules (routing, auth, throttling, payload 2.0 events, result mapping)."""
