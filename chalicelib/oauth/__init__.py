"""Google and GitHub sign-in behind one small contract (see `base.py`)."""
