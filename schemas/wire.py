"""Topic and header names: the on-the-wire contract between ingest, worker and projector.

Ingest keys are a keyed hash of the subject (one person's events keep their order); other
topic keys are event ids (random UUIDs). Headers carry only key ids, agency names, reasons
and timestamps — never personal data.
"""

from __future__ import annotations

INGEST_PREFIX = "ingest."
CASES_PREFIX = "cases."
OUTCOMES_TOPIC = "outcomes"
DEADLETTER_TOPIC = "deadletter"
# Disclosure-log entries (schemas/disclosures.py), keyed by entry id. One partition: one
# sequencer consumes it (core/ledger/sequencer.py).
DISCLOSURES_TOPIC = "disclosures"
# Pseudonymised signals on their way into windowed state (schemas/signals.py), keyed by a hash
# of the aggregation key so that one key's signals meet in one partition.
SIGNALS_TOPIC = "signals"
# Empty one-partition topics whose only use is an election: the member of a job's consumer
# group that holds the partition runs the job (core/bus/election.py). No records, no keys.
ELECTION_PREFIX = "election."

H_KEY_ID = "ssp-key-id"
H_AGENCY = "ssp-agency"
H_EVENT_ID = "ssp-event-id"
H_INGESTED_AT = "ssp-ingested-at"
H_REASON = "ssp-reason"
H_SOURCE_TOPIC = "ssp-source-topic"
# "1" on case and outcome records the route stage projected into the store itself.
H_PROJECTED = "ssp-projected"


def ingest_topic(agency: str) -> str:
    return INGEST_PREFIX + agency


def cases_topic(queue: str) -> str:
    return CASES_PREFIX + queue


def election_topic(job: str) -> str:
    return ELECTION_PREFIX + job
