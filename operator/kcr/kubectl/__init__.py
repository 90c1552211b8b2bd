"""The kubectl-kcr plugin: review, approve and steer change requests from kubectl."""

import kcr.kinds  # noqa: F401  (registers the built-in change kinds)
