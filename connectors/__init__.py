"""Agency connectors: each agency system's native export, mapped to the canonical event v1.

- ``school-absence`` (:mod:`connectors.school`): the elevadministration's daily absence CSV
  → ``school_absence`` signals.
- ``school-concern`` (:mod:`connectors.school`): bekymringsnotater, a JSON array → concerns.
- ``social-concern`` (:mod:`connectors.social`): the case system's XML export → concerns.
- ``police-doegnrapport`` (:mod:`connectors.police`): døgnrapport entries, JSON Lines →
  concerns (haendelse) and ``police_registration`` signals (registrering).

``connectors.registry.connector(name).parse(data)`` gives one ``Mapped`` or ``Refused`` per
source record (:mod:`connectors.base`); refusals name the source line and field and never echo
a value. The formats are documented field by field in ``connectors/README.md``, with samples
in ``connectors/samples/``. The adapters are pure; HTTP ingest of canonical events is in
``hub/api.py``, and the native-format delivery modes (HTTP, file drop, Kafka-native) build on
these adapters.
"""
