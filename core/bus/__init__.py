"""The Kafka seam: topics and consumers."""
