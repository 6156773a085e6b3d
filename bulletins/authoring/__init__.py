"""Writing bulletins: drafts, review by a second person, publication with gap-free
references and numbered revisions."""
