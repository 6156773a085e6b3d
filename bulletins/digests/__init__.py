"""Scheduled digests (daily, weekly) of published bulletins, and leaving them."""
