"""The local stage's AWS emulator: moto's server (server.py) and everything that patches or
reads moto's internals, each in a module of its own.

- `fidelity_<service>.py`: a patch that makes moto answer as AWS does where the local stage
  depends on it; its docstring says what it makes true, `install()` applies it (idempotent).
- `backends.py`: what the local stage reads out of moto's in-process backends (deployed code,
  IAM users' access keys).
- `changes.py`: the counter of configuration changes that the front doors watch.

Importing this package imports no moto; only `server`, `backends` and the patches do.
"""
