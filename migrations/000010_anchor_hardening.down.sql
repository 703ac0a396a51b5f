DROP TABLE anchor_lease;
