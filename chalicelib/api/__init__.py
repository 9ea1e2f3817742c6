"""HTTP: route modules that parse, call one service and answer JSON; middleware; OpenAPI."""
