"""An integrator's flow, with a client generated from /v1/openapi.json by
openapi-python-client and used as generated (nothing patched).

Usage: flow.py BASE_URL API_KEY ORGANISATION_ID PROOFME_ID
(the generated package `proofme_client` must be importable).
"""

import sys

from proofme_client import AuthenticatedClient
from proofme_client.api.identifications import (
    create_identification,
    delete_identification_data,
    get_identification,
    get_identification_data,
    get_status_history,
    list_identifications,
    list_webhook_attempts,
    revoke_identification,
    set_test_outcome,
)
from proofme_client.models import (
    ChangeCauseName,
    CreateIdentificationJson,
    DataResponse,
    DeliveriesResponse,
    HistoryResponse,
    IdentificationResponse,
    ListResponse,
    MessageResponse,
    Mode,
    Problem,
    StatusCode,
    StatusName,
    TestOutcome,
    TestOutcomeJson,
)

base, key, organisation, proofme = sys.argv[1:5]
client = AuthenticatedClient(base_url=base, token=key, raise_on_unexpected_status=True)
metadata = {"my-data": 12345, "tags": ["a", "b"], "nested": {"ok": True}}


def expect(what, response, status, model):
    assert response.status_code == status, f"{what}: {response.status_code} {response.content!r}"
    assert isinstance(response.parsed, model), f"{what}: parsed as {type(response.parsed)}"
    print(f"flow: {what}: {status}")
    return response.parsed


created = expect(
    "createIdentification (JSON, metadata an object)",
    create_identification.sync_detailed(
        client=client,
        body=CreateIdentificationJson(
            proofme_id=proofme,
            organisation_id=organisation,
            redirect_url="https://your-application.example.org/identification/12345/",
            description="Order 12345",
            metadata=metadata,
            locale="nl_NL",
        ),
        idempotency_key="flow-12345",
    ),
    201,
    IdentificationResponse,
)
assert created.metadata == metadata, f"metadata came back as {created.metadata!r}"
assert created.status == StatusCode.VALUE_0 and created.status_name == StatusName.OPEN
assert created.mode == Mode.TEST
ident = created.id

replayed = create_identification.sync_detailed(
    client=client,
    body=CreateIdentificationJson(
        proofme_id=proofme,
        organisation_id=organisation,
        redirect_url="https://your-application.example.org/identification/12345/",
        description="Order 12345",
        metadata=metadata,
        locale="nl_NL",
    ),
    idempotency_key="flow-12345",
)
assert replayed.status_code == 201 and replayed.parsed.id == ident, "replay"
assert replayed.headers.get("Idempotent-Replayed") == "true", "Idempotent-Replayed"
print("flow: createIdentification replayed with the same Idempotency-Key")

got = expect("getIdentification", get_identification.sync_detailed(ident, client=client), 200, IdentificationResponse)
assert got.metadata == metadata and got.my_page_url.endswith(ident)

page = expect("listIdentifications", list_identifications.sync_detailed(client=client, limit=10, search="12345"), 200, ListResponse)
assert page.count >= 1 and any(row.id == ident for row in page.rows)

done = expect(
    "setTestOutcome (JSON)",
    set_test_outcome.sync_detailed(ident, client=client, body=TestOutcomeJson(status=TestOutcome.VERIFIED)),
    200,
    IdentificationResponse,
)
assert done.status_name == StatusName.VERIFIED

history = expect("getStatusHistory", get_status_history.sync_detailed(ident, client=client), 200, HistoryResponse)
assert [row.cause for row in history.rows] == [ChangeCauseName.CREATED, ChangeCauseName.API_TEST_OUTCOME]

expect("listWebhookAttempts", list_webhook_attempts.sync_detailed(ident, client=client), 200, DeliveriesResponse)

data = expect("getIdentificationData", get_identification_data.sync_detailed(ident, client=client), 200, DataResponse)
assert data.status_name == StatusName.VERIFIED
assert data.data is not None and data.data.older_than_18 is True, f"data: {data.data!r}"

final = expect("revokeIdentification (already final)", revoke_identification.sync_detailed(ident, client=client), 409, Problem)
assert final.type_ == "about:blank" and final.instance == f"/v1/identification/{ident}"

expect("deleteIdentificationData", delete_identification_data.sync_detailed(ident, client=client), 200, MessageResponse)

missing = expect("getIdentification (unknown id)", get_identification.sync_detailed("id_unknown000000000000", client=client), 404, Problem)
assert missing.status == 404

print("flow: the generated client did the whole flow")
