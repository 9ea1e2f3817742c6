"""Persistence: one pynamodb model module per DynamoDB table."""
