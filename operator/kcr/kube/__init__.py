"""kcr's one Kubernetes client, shared by the operator, the MCP server and the kubectl plugin.

``config`` finds where to connect and as whom (a kubeconfig context or the pod's service
account), ``client`` speaks JSON over aiohttp with timeouts and a cap on requests in flight,
``errors`` is the one error family every caller handles, ``secrets`` reads one key of a
Secret, and ``resources`` names kcr's own API group and paths.
"""
