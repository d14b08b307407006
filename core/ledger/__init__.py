"""The disclosure log: entry ids (entries), where entries go (disclosures), the sequencer, the
log and its live verification (auditlog), the Merkle tree, and retention."""
