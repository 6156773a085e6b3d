"""The playbooks pages and REST routes: list, detail with the workflow graph, runs, triggers
and schedules."""
