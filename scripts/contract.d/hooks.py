"""schemathesis hooks for scripts/contract: generated creates name the test
organisation and proofme (from the environment) instead of random ids, so
they can succeed and the stateful phase follows the document's links into
the identifications they made. Only string values are replaced, so a case
meant to be invalid stays invalid."""

import os

import schemathesis

IDS = {
    "organisationId": os.environ["CONTRACT_ORGANISATION"],
    "proofmeId": os.environ["CONTRACT_PROOFME"],
}


@schemathesis.hook
def map_case(context, case):
    operation = case.operation
    creates = operation.method.upper() == "POST" and operation.path == "/v1/identification"
    if creates and isinstance(case.body, dict):
        for field, value in IDS.items():
            if isinstance(case.body.get(field), str):
                case.body[field] = value
    return case
