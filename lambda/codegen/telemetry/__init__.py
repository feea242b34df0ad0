"""What each request and job records: one access-log line with its EMF metrics, and the one
list of the stage's metric names."""
