-- The FederationRegistry, deployed beside the AuditRegistry when federated
-- learning first starts (a database older than it has none yet). Kept here
-- like the registry's address, so that every instance and every restart
-- uses the same contract.
ALTER TABLE chain_meta ADD COLUMN federation_registry bytea CHECK (length(federation_registry) = 20);
