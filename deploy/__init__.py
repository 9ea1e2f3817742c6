"""What `make deploy` runs besides CloudFormation (template.yaml is merged into Chalice's)."""
