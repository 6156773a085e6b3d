"""The CACAO engine: starting runs, advancing them step by step on the scheduler, the registry
of command executors (:mod:`~playbooks.engine.registry`)."""
