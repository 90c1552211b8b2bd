"""The kubectl-kcr plugin: review, approve and steer change requests from kubectl."""
