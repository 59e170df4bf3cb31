"""Checks of Flotilla's own that Schemathesis runs beside its built-in ones (see schemathesis.toml).

A schema-valid request may still be refused with 400 for a reason no schema can state (an
execution whose tasks form a cycle, a cursor this API did not issue). Such a refusal carries its own
code (service-kit's RefusedInputError); VALIDATION_FAILED means that the request did not fit the
schema, which for a schema-valid request means the document and the validation disagree.
"""

import schemathesis
from schemathesis import Case, CheckContext, Response

# The codes of a 400 that says the request did not fit what the service validates against, or that
# it could not be read at all: none of them may answer a request the document says is valid.
SHAPE_CODES = {None, "VALIDATION_FAILED"}


def _is_documented_method(case: Case) -> bool:
    # The coverage phase also sends methods the path does not have; the checks here are about the documented ones.
    return case.method.upper() == case.operation.method.upper()


def _is_positive(case: Case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


def _json(response: Response):
    try:
        return response.json()
    except Exception:  # noqa: BLE001 - a body that is not JSON is judged by the built-in checks
        return None


@schemathesis.check
def refusals_carry_their_reason(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A schema-valid request answered 400 must be refused for a reason the schema cannot state."""
    if response.status_code != 400 or not _is_positive(case) or not _is_documented_method(case):
        return None
    body = _json(response)
    code = body.get("code") if isinstance(body, dict) else None
    if code in SHAPE_CODES or (isinstance(code, str) and code.startswith("FST_")):
        raise AssertionError(
            f"A request that fits the document was refused as not fitting it (code {code}): "
            f"the document and the validation disagree.\nResponse: {response.text[:2000]}"
        )
    return None


@schemathesis.check
def unauthenticated_answers_401(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Without a valid token every documented operation answers 401, saying why in WWW-Authenticate."""
    if not _is_documented_method(case):
        return None
    if response.status_code != 401:
        raise AssertionError(f"Expected 401 without a valid token, got {response.status_code}.\nResponse: {response.text[:2000]}")
    if "www-authenticate" not in {name.lower() for name in response.headers}:
        raise AssertionError("A 401 without a WWW-Authenticate header")
    return None
