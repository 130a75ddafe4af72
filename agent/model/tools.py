"""MCP tools as the model is shown them, and the model's chosen call checked against them.

The model sees a simplified copy of each input schema; the call it makes is checked against
the tool's real `input_schema`, after repairing only slips whose meaning is unambiguous.
"""

from __future__ import annotations

import json
import re
from typing import Any

import mcp.types as mcp_types
from jsonschema import SchemaError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

from agent.planner.regions import region_code

DESTRUCTIVE_NOTE = "DESTRUCTIVE: only when the user explicitly asked for exactly this. "
# Wrappers small models put around the real arguments: {"parameters": {...}}.
_WRAPPER_KEYS = ("parameters", "arguments", "args", "input")
_INSTANCE_KEYS = ("instance", "instances")


def function_specs(tools: list[mcp_types.Tool]) -> list[dict[str, Any]]:
    """OpenAI-style function dicts, the form `ChatOllama.bind_tools` passes through unchanged."""
    return [_function_spec(tool) for tool in tools]


def _function_spec(tool: mcp_types.Tool) -> dict[str, Any]:
    schema = tool.input_schema or {}
    properties = {name: _plain_property(prop, schema) for name, prop in schema.get("properties", {}).items()}
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if schema.get("required"):
        parameters["required"] = list(schema["required"])
    description = (tool.description or "").strip()
    if tool.annotations is not None and tool.annotations.destructive_hint:
        description = DESTRUCTIVE_NOTE + description
    return {"type": "function", "function": {"name": tool.name, "description": description, "parameters": parameters}}


def _plain_property(prop: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    # The ollama client keeps only type/items/description/enum of a property (its Tool model drops
    # the rest), so Pydantic's `anyOf: [X, null]` for an Optional would reach the model with no type.
    branch = _non_null(prop, root)
    plain = {key: _resolve(branch[key], root) for key in ("type", "items", "enum") if key in branch}
    if "type" not in plain and ("additionalProperties" in branch or "properties" in branch):
        plain["type"] = "object"
    description = (prop.get("description") or branch.get("description") or "").strip()
    if prop.get("default") not in (None, ""):
        description = f"{description} Default: {json.dumps(prop['default'])}.".strip()
    if description:
        plain["description"] = description
    return plain


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/"):
        return root.get("$defs", {}).get(node["$ref"].removeprefix("#/$defs/"), node)
    return node


def _non_null(prop: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """The one non-null branch of an Optional's `anyOf`, or the property itself."""
    prop = _resolve(prop, root)
    branches = [b for b in prop.get("anyOf", []) if not (isinstance(b, dict) and b.get("type") == "null")]
    if len(branches) == 1 and isinstance(branches[0], dict):
        return _resolve(branches[0], root)
    return prop


def check_call(name: str, arguments: Any, tools: list[mcp_types.Tool]) -> tuple[dict[str, Any] | None, str | None]:
    """(arguments ready for the MCP call, None) or (None, a one-line reason to fall back)."""
    tool = next((t for t in tools if t.name == name), None)
    if tool is None:
        return None, f"model chose unknown tool {name!r}"
    schema = tool.input_schema or {}
    args = _as_object(arguments)
    if args is None:
        return None, "model returned malformed JSON arguments"
    args = repair_arguments(args, schema)
    problem = _schema_problem(args, schema) or _instance_problem(args)
    if problem:
        return None, f"arguments failed validation: {problem}"
    return args, None


def _as_object(arguments: Any) -> dict[str, Any] | None:
    if arguments is None:
        return {}
    if isinstance(arguments, str):  # a JSON-encoded object instead of the object itself
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            return None
    return arguments if isinstance(arguments, dict) else None


def repair_arguments(args: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Undo slips whose meaning is unambiguous; never adds an argument the model did not give."""
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    if len(args) == 1:
        (key, inner), = args.items()
        inner = _as_object(inner) if isinstance(inner, str) else inner
        if key in _WRAPPER_KEYS and key not in properties and isinstance(inner, dict):
            args = inner
    fixed: dict[str, Any] = {}
    for key, value in args.items():
        if key not in required and value in (None, "", [], {}):
            continue  # an optional filter written out as empty means no filter: the server default
        fixed[key] = _coerce(value, _non_null(properties.get(key, {}), schema))
    region = fixed.get("region")
    if isinstance(region, str) and "region" in properties:  # "Seoul" for ap-northeast-2: one meaning only
        fixed["region"] = "all" if region.strip().lower() == "all" else region_code(region) or region
    return fixed


def _coerce(value: Any, prop: dict[str, Any]) -> Any:
    kind = prop.get("type")
    if kind == "array" and isinstance(value, str):
        return [value]  # "web-1" where ["web-1"] is meant
    if kind == "integer" and isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind == "boolean" and isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return value


def _schema_problem(args: dict[str, Any], schema: dict[str, Any]) -> str | None:
    # Pydantic schemas do not forbid extra keys, and an unknown key ("env": "prod" on
    # list_instances) silently dropped by the server would widen what the call touches.
    extra = sorted(set(args) - set(schema.get("properties", {})))
    if extra and not schema.get("additionalProperties"):
        return f"unexpected argument {extra[0]!r}"
    try:
        validator = validator_for(schema)(schema)
        error = best_match(validator.iter_errors(args))
    except SchemaError as exc:
        return f"the tool's schema is invalid ({exc.message})"
    if error is None:
        return None
    where = ".".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def _instance_problem(args: dict[str, Any]) -> str | None:
    for key in _INSTANCE_KEYS:
        if key not in args:
            continue
        refs = args[key] if isinstance(args[key], list) else [args[key]]
        if not refs:
            return f"{key} is empty"
        if not all(isinstance(ref, str) and ref.strip() for ref in refs):
            return f"{key} must be instance ids or Names as strings"
    return None
