"""The CERT mailbox: reports and answers by e-mail become incidents and conversation.

Two ways in (:mod:`.jobs`, the scheduler reading ``CERT_IMAP_URL``; :mod:`.cli`,
``cert mail receive`` on standard input) call :func:`.receiving.receive`, which stores the raw
message first (:mod:`.store`) and then decides what it is (:mod:`.processing`): a reply threaded
to an incident's conversation, a new report through the intake service, or a message held for
an analyst (:mod:`.held`, the held-mail queue of :mod:`.web`).
"""
