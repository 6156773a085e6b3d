"""The notification centre: who is told what about incidents, in the app and by e-mail.

Fed by the durable domain events (:mod:`incidents.events`), never by the use cases directly:

* :mod:`~incidents.notifications.handlers`: the subscribers listed in the slice manifest — the
  notifications of CERT staff (a new incident in their scope, assigned to them, a reporter's
  answer, an SLA due soon or breached, a mention in a comment, an escalation, a transfer to their
  centre), the "answer waiting" marker of
  the queue, and the reporter's e-mails on status changes;
* :mod:`~incidents.notifications.recipients` (who may be told: the incident's centre's staff on
  duty and leads, CERT staff who may see the incident, :mod:`incidents.access`),
  :mod:`~incidents.notifications.mentions` (``@name``);
* :mod:`~incidents.notifications.sla_watch`: the scheduler's scan of due dates, which records
  ``incident.sla_due_soon`` / ``incident.sla_breached`` once per incident and state;
* :mod:`~incidents.notifications.escalation`: the scheduler's escalation of incidents not
  acknowledged in time (``CERT_ESCALATION_STEPS``), ``incident.escalated`` once per step;
* :mod:`~incidents.notifications.mailing` and :mod:`~incidents.notifications.reporter_mail`:
  the e-mails (immediately or in a daily digest, per the user's preference; the reporter's status
  mails), queued in the outbox by the scheduler's job, which has the settings (links, time zone);
* :mod:`~incidents.notifications.inbox` (the list, the unread count, mark as read),
  :mod:`~incidents.notifications.preferences` (e-mail preference),
  :mod:`~incidents.notifications.duty` (each centre's on-duty rota, standing duty);
* :mod:`~incidents.notifications.web` (the bell, ``/notifications``, the rota page),
  :mod:`~incidents.notifications.jobs` (the scheduler's adapters).
"""
