"""The indicator index: writing parsed records, matching observables, known-benign values."""
