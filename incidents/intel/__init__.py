"""Threat intelligence on incidents: matches of their observables against the indicator index
(on arrival and by retro-hunt), known-benign values, the intel pages."""
