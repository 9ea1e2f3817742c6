"""Entry points that are not HTTP: handlers of the tables' DynamoDB Streams (Chalice's
`on_dynamodb_record`), which translate stream records into service calls as routes translate
requests."""
