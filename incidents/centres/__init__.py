"""Vigilance centres on the incidents side: an incident belongs to exactly one centre (routed on
arrival by :func:`core.identity.centres.route`, see ``incidents.intake.service``); analysts
transfer it to another centre with a reason (:mod:`incidents.centres.transfer`) and share it
with another centre for a joint investigation, read-only or to work it
(:mod:`incidents.centres.shares`). Who sees what is :mod:`incidents.access`."""
