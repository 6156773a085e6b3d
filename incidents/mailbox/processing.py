"""(written by a helper of issue 21)"""
