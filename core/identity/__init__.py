"""Who: organisations, users and roles (the accounts tables) and the authorisation predicates
every slice asks (kernel, Flask-free)."""
