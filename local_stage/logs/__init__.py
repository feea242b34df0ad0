"""Log lines into the emulator's CloudWatch Logs, where AWS keeps them (the functions' output,
the gateway's access log), and their EMF records turned into metrics, as CloudWatch does."""
