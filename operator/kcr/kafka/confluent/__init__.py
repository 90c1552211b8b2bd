"""The confluent-kafka (librdkafka) backend of the Kafka port; nothing else imports it."""
