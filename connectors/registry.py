"""The connectors by name: ``connector("school-absence").parse(data)``.

The names are the external contract of the delivery modes (``ssp-hub connector watch
--connector NAME``, ``POST /api/v1/connectors/{connector}``); each belongs to one agency, and
an agency's credential may use only its own connectors (:func:`for_agency`).
"""

from __future__ import annotations

import dataclasses
import uuid

from connectors.base import Connector
from connectors.police import PoliceDoegnrapport
from connectors.school import SchoolAbsence, SchoolConcern
from connectors.social import SocialConcern
from schemas.events import Agency

CONNECTORS: dict[str, Connector] = {
    c.name: c for c in (SchoolAbsence(), SchoolConcern(), SocialConcern(), PoliceDoegnrapport())
}


def connector(name: str, *, id_namespace: uuid.UUID | None = None) -> Connector:
    """The connector called ``name``; ``KeyError`` naming the known ones otherwise.

    ``id_namespace`` (see :func:`connectors.base.keyed_namespace`) replaces the public default
    namespace of the event ids; production passes one derived from a secret."""
    try:
        found = CONNECTORS[name]
    except KeyError:
        raise KeyError(f"unknown connector {name!r}; known: {', '.join(sorted(CONNECTORS))}"
                       ) from None
    return found if id_namespace is None else dataclasses.replace(found, id_namespace=id_namespace)


def for_agency(agency: Agency | str) -> list[str]:
    """The names of the connectors that ``agency`` may use."""
    return sorted(name for name, c in CONNECTORS.items() if c.agency == agency)
