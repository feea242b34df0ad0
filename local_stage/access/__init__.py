"""Who may use a local server: the guard every request passes (the stack's token, the Host and
Origin checks), SigV4 verification, and the header helpers both share."""
