"""Observables in report text: refanging (``refang``), extraction (``extraction``), canonical
values (``values``) and context heuristics (``context``). Pure: no database, no Flask."""
