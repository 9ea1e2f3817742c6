"""Accounts: signing up and in (email and password, Google and GitHub), the users admins
manage, the lockout rule, links asked for by address, and buyers' own access to their tickets."""
