"""The emulated AWS side of the `local` stage, one subpackage per part:

- `emulator/`: moto's server and every patch or reader of moto's internals, plus what moto
  lacks and the tooling asks (Bedrock's catalogue, Lambda's account settings, quotas);
- `gateway/` and `event_sources/`: the two front doors that invoke functions (the HTTP API,
  and the SQS pollers of event source mappings);
- `runtime/`: the Lambda runtime workers that run the deployed zips, their code and
  interpreters;
- `logs/`: log lines into the emulator's CloudWatch Logs and EMF records into its metrics;
- `access/`: who may use a local server (the guard, SigV4);
- `model/`: the Bedrock-compatible model server (a process of its own);
- `console/`: the browser page;
- and at the top: `server` (the stage server process), `supervisor` (starts and stops the
  processes behind `invoke local.*`), `control_plane` (what Terraform created, read back),
  `faults` (injected AWS failures) and `contract` (what deploy/ may know of a running stack).

It runs the deployed zips in worker processes, as Lambda does; it never imports the
function's code into its own process.
"""
