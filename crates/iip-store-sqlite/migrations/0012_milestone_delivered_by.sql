-- The organization that delivered a milestone, when it is the outcome of a referral: the
-- milestone stays on the sending organization's record (it counts for the participant there),
-- and names the receiving organization that achieved it with them. NULL: recorded by the
-- participant's own organization.
ALTER TABLE milestone ADD COLUMN delivered_by TEXT REFERENCES organization (org_id);
