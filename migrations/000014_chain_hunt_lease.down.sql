DROP TABLE chain_hunt_lease;
