"""The OpenAPI description's additions: the token scheme, and the problem details every
operation may answer (so that a client, and the contract tests, know each error's shape)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from api.problems import MEDIA_TYPE


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "An API token from the account menu (API tokens) or the admin: "
                "`Authorization: Bearer tt_…` (`Token tt_…` works too)."
            ),
        }


PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "description": "about:blank, or a urn naming the problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "Bad input: one item per problem, with its field (null: none).",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                },
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each field.",
    "401": "No token, or an unknown, expired or revoked one.",
    "403": "The token's user may not do this.",
    "404": "Not there, or outside the user's scope.",
    "409": "The entry changed since it was read (its version), or its state does not allow "
           "this.",
    "429": "Too many requests: try again after `Retry-After` seconds.",
}


def add_problem_responses(result: dict, generator, request, public) -> dict:
    """POSTPROCESSING_HOOK: the problem schema, and the error responses of each operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    problem = {"content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            # 404 for a path's object out of scope, and for a list's page beyond the last.
            codes = ["400", "401", "403", "404", "429"]
            if method != "get":
                codes.append("409")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": DESCRIPTIONS[code], **problem})
    return result
