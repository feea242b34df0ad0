"""Deploying codegen-deploy, one module a job:

- stage settings (`stages`, `paths`) and the stage settings page (`settings_reference`);
- where a stage deploys, behind one interface (`target`: `aws_target` for an account,
  `emulator_target` for the local emulator), from a clean environment (`environment`);
- the Terraform driver (`terraform`), per-stage working directories (`workdir`), the layer
  and zip for a stage (`artifacts`) and the deployer that puts them together (`deployer`;
  `scratch` deploys the local stage into directories of a test's or bench's own);
- first contact with an account, read before anything is created: `preflight`, `account`,
  `capacity`, `bedrock_models`, and `model_enable` (the model's first call);
- the one HTTP client, signed or not, of the tooling, the console, the tests and the benches
  (`call`, with `job_poll_display` for `invoke call --async`);
- operating a stage: `logs`, `status`, `usage`;
- `evaluation/` (behind `invoke eval`), `tools` (the pinned tools' venvs) and `errors` (the
  expected errors, whose messages say what to do).
"""
