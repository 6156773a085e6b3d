"""The shared test kit: helpers that tests in several packages use (issue 16 §5).

Test modules import helpers from here, not from each other: a test module is free to move.
"""
