-- The organisation's own view of its identifications filters by status and
-- sorts by last change; both walk an index in order and stop at a page,
-- however many identifications the organisation has.
CREATE INDEX identifications_by_organisation_status
    ON identifications (organisation_id, status, created_at, id);
CREATE INDEX identifications_by_organisation_updated
    ON identifications (organisation_id, updated_at, id);
