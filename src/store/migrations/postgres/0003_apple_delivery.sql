-- The delivery chain of a pass update, per device (issue 3, "Delivery you can see"):
-- pushed_version is the pass version (its modified_at) last pushed to the device successfully or
-- not (push_status says how APNs answered); listed_at / listed_since record the device's last
-- "which passes changed since <tag>" call and the tag it sent, which is the version it holds;
-- fetched_at / fetched_modified_at its last download of the pass. A pass with a version newer
-- than pushed_version still owes this device a push.
ALTER TABLE apple_registrations ADD COLUMN pushed_version BIGINT;
ALTER TABLE apple_registrations ADD COLUMN listed_at BIGINT;
ALTER TABLE apple_registrations ADD COLUMN listed_since BIGINT;
-- The business a log message belongs to (NULL when it names no known pass), for the admin panel.
ALTER TABLE apple_pass_log ADD COLUMN business_id BIGINT;
