"""kcr: Kafka change requests made safe for assistants."""
