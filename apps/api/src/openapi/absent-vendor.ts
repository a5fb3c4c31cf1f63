// Stands in for schema libraries this worker does not use (see [alias] in wrangler.toml): the
// OpenAPI converters import them only for schemas of that library, which we never have.
export {};
