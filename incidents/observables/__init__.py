"""Observables in report text: refanging and defanging (``refang``), extraction (``extraction``),
canonical values (``values``), context heuristics (``context``) and which are external indicators
(``scope``): pure, no database, no Flask. ``connections`` reads the database (Flask-free): where
else an indicator was seen, and possible campaigns."""
