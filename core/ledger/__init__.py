"""The disclosure log: entries, Merkle tree, sequencer, export, retention, witness."""
