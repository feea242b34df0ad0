"""The code-generation Lambda functions.

At the top: the two entry points (`handler` for the HTTP API, `worker` for the job queue),
`wiring` (builds each from settings and clients), `settings` (the environment, read and
checked once) and `clients` (the AWS clients). The rest by concern:

- `http/`: the API Gateway event, the one route table, responses and errors, idempotency,
  and the service that answers each route;
- `generation/`: the request, the prompt, Bedrock, the syntax check and repair, storage, and
  `producer` (the step a synchronous request and a job share);
- `jobs/`: the job's state machine, its store, its view, the routes that submit and read jobs,
  and the queue's worker;
- `telemetry/`: the metric names and the access-log line with its EMF record;
- `spend/`: each caller's tokens and cost, and the budgets that hold before the model is
  called.
"""
