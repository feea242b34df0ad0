"""`invoke eval`: how good the code a stage writes is, measured on a suite of tasks."""
