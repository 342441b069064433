#!/usr/bin/env python3
"""Validates a JSON document (file or stdin) against a JSON Schema with the `jsonschema` package.

Usage: json-schema.py SCHEMA [DOCUMENT|-]. Exit 0 when valid; 1 with one error per line when not;
2 when the schema itself is not a valid Draft 2020-12 schema or an input cannot be read.
"""
import json
import sys

import jsonschema


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        source = sys.argv[2] if len(sys.argv) == 3 else "-"
        document = json.load(sys.stdin) if source == "-" else json.load(open(source, encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    for e in errors:
        print("/".join(str(p) for p in e.absolute_path) + ": " + e.message)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
