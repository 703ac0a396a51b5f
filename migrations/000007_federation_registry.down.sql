ALTER TABLE chain_meta DROP COLUMN federation_registry;
