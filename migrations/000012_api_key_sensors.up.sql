-- The sensor names an ingest key may claim (NULL: any). An alert records
-- the key that submitted it, and a key bound to its sensors cannot raise
-- alerts in another sensor's name.
ALTER TABLE api_keys ADD COLUMN sensors text[];
