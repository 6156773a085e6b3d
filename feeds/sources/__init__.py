"""Sources of intelligence: feeds, their polling and imports, and their runs."""
