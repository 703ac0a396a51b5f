DROP TABLE webhook_dead_letters;
DROP TABLE webhooks;
DROP TABLE alert_notes;
DROP TABLE alert_workflow;
DROP TABLE alert_src_counts;
DROP TABLE alert_counts;
DROP INDEX records_pending_id;
DROP TABLE alerts;
