"""Agency connectors (school, social services, police) to the canonical event.

Issue 2 ships the HTTP ingest path (hub/api.py); the native-format adapters, the file-drop
watcher and the Kafka-native connector come with the connectors issue.
"""
