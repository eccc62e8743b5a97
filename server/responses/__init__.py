"""The Responses API dialect: request mapping, planning, the response object, its event stream,
stored responses, and the routes under /v1/responses."""
