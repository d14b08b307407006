"""A witness for the disclosure log: a second key, held by the DPO, co-signs checkpoints.

Whoever holds the hub's signing key could rebuild and re-sign the log. A checkpoint that the
data-protection officer (DPO) has co-signed with a key the hub never holds pins the log's
state at that moment: a later log that does not extend it (RFC 6962 consistency) was
rewritten, whatever the hub's key says.

* ``ssp-hub audit witness keygen --out DPO.key`` makes the DPO's Ed25519 key (0600 PEM) and
  prints its public key and fingerprint.
* ``ssp-hub audit witness sign --key DPO.key --checkpoint CP.json --public-key HUB.pem
  --out COSIGNED.json`` checks the hub's signature on the checkpoint with the pinned hub
  key, then co-signs it.
* ``ssp-hub audit verify … --witness-key DPO.pub --cosigned COSIGNED.json`` checks the
  co-signature and that the log extends the co-signed checkpoint.

The co-signature covers ``WITNESS_CONTEXT`` + the checkpoint note (the exact bytes the hub
signed), so it can never be taken for a hub signature or vice versa.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.ledger.auditlog import checkpoint_json, key_fingerprint
from schemas.disclosures import Checkpoint

WITNESS_CONTEXT = b"ssp-hub witness cosignature v1\n"


def cosign(cp: Checkpoint, key: Ed25519PrivateKey) -> dict[str, Any]:
    """The co-signed checkpoint document."""
    signature = key.sign(WITNESS_CONTEXT + cp.note())
    return {**checkpoint_json(cp), "witness": key_fingerprint(key.public_key()),
            "witness_signature": base64.b64encode(signature).decode("ascii")}


def verify_cosigned(data: bytes, witness: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint a co-signed document holds, if ``witness`` signed it; else ValueError
    (naming what is wrong, never a value)."""
    from hub.audit_export import parse_retained_checkpoint

    try:
        doc = json.loads(data)
        signature = base64.b64decode(doc["witness_signature"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("the co-signed checkpoint has no readable witness signature") from exc
    cp = parse_retained_checkpoint(data)
    try:
        witness.verify(signature, WITNESS_CONTEXT + cp.note())
    except InvalidSignature as exc:
        raise ValueError("the witness signature does not verify with the witness key") from exc
    return cp
