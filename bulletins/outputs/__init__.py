"""A bulletin's renditions: the view every output reads, and the formats (HTML, text, PDF,
CSAF, STIX) registered by name."""
