DROP TABLE active_model;
DROP TABLE fl_accountant;
DROP TABLE fl_reputations;
DROP TABLE fl_rejections;
DROP TABLE fl_updates;
DROP TABLE fl_rounds;
DROP TABLE fl_sites;
DROP SEQUENCE model_registry_versions;
DROP TABLE models;

-- The narrower kind check of 000001, validated: a ledger that already holds
-- fl_round or chain_alert records cannot go back without losing them, and
-- this fails (changing nothing) rather than delete anchored records.
ALTER TABLE records DROP CONSTRAINT records_kind_check;
ALTER TABLE records ADD CONSTRAINT records_kind_check
    CHECK (kind IN ('alert', 'model_update', 'global_model', 'audit_event'));
