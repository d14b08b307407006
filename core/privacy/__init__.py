"""Keys, the envelope cipher and pseudonyms, the vault, free text and its scrubber."""
