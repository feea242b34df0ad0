"""The local stage's second front door (beside gateway/): Lambda's event source pollers, which
invoke the deployed functions from the emulator's queues as Lambda's own pollers do."""
