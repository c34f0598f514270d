-- The organization that delivered a milestone, when it is the outcome of a referral (see the
-- SQLite schema, 0012_milestone_delivered_by.sql): the milestone stays on the sending
-- organization's record and names the receiving organization. NULL: recorded by the
-- participant's own organization.
ALTER TABLE milestone ADD COLUMN delivered_by TEXT REFERENCES organization (org_id);
