"""The kernel (Flask-free) and the web/API kit, below the slices: see README, Architecture."""
