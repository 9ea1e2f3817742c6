"""The Events API: everything the Lambda functions import besides app.py."""
