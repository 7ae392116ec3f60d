"""Keys strawberry field metadata may carry for other parts of ARCOS to read."""

#: JSON Schema constraints of an input field (pattern, lengths), published in OpenAPI.
JSON_SCHEMA = "arcos.json_schema"
