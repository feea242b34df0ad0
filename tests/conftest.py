"""Make the function's source (lambda/) importable as `codegen`, as it is on Lambda."""

import sys

from deploy.paths import LAMBDA_DIR

if str(LAMBDA_DIR) not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR))
