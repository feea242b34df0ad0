"""The local console: one page, served by the stage server under /_local/console/, that shows
the local stage as one service (processes and model, the gateway's requests with their logs
and stored code, jobs and dead letters, stored objects) and sends requests through it.

Everything it shows is read where the tooling reads it on AWS (the emulator's APIs, the
gateway's own record of what it served); every path asks for the stack's token
(local_stage.access.guard). No build step: plain HTML, CSS and JavaScript, highlighting done on the
server (Pygments).
"""
