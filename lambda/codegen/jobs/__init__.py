"""Asynchronous jobs: the state machine, its DynamoDB store, the view a reader gets, the routes
that submit and read them, and the worker the queue invokes."""
