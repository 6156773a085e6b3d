"""Triggers (incident events) and schedules (cron, per organisation) that start runs."""
