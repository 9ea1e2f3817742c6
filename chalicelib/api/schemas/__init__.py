"""Request and response bodies as pydantic models: what the API validates is what it documents."""
