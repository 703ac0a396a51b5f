-- An alert's risk: its score on the 0-100 scale every model shares (see
-- ingest.Risk), which SOC exports carry as their risk and confidence scores.
-- Alerts stored before have none (NULL: their bodies carry no risk either).
ALTER TABLE alerts ADD COLUMN risk double precision CHECK (risk BETWEEN 0 AND 100);
