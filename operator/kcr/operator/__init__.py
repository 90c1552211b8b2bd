"""The kcr operator: thin kopf handlers that run the engine's decisions against the real
Kubernetes API, Kafka and Prometheus, with metrics, JSON logs, Events and a health probe."""
