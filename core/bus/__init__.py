"""The Kafka seam: the broker protocol (:mod:`core.bus.protocol`) with its aiokafka
(:mod:`core.bus.kafka`) and in-memory (:mod:`core.bus.memory`) implementations, the ingest
envelope (:mod:`core.bus.envelope`) that travels over it, topics and the stages' consumers."""

from core.bus.kafka import KafkaBus
from core.bus.memory import InMemoryBus
from core.bus.protocol import (
    Bus,
    BusError,
    CommitFailed,
    Consumer,
    Outgoing,
    Producer,
    Record,
    TopicPartition,
)

__all__ = ["Bus", "BusError", "CommitFailed", "Consumer", "InMemoryBus", "KafkaBus",
           "Outgoing", "Producer", "Record", "TopicPartition"]
