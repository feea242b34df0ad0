# Credentials and endpoints come from the environment (AWS_PROFILE, AWS_REGION, and for the
# local stage AWS_ENDPOINT_URL*): the configuration is the same for every stage.
provider "aws" {
  region = var.aws_region
  # The stage's own account or nothing: other credentials fail before anything is read.
  allowed_account_ids = var.aws_account_id == null ? null : [var.aws_account_id]

  # Every resource's tags, in one place (no module takes tags of its own).
  default_tags {
    tags = {
      Project   = var.project
      Stage     = var.stage
      Service   = "code-generation"
      ManagedBy = "terraform"
    }
  }
}
