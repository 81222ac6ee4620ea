-- Notes and calls may carry a "follow up on" day (SPEC §7, §11.1): content.follow_up_on, and
-- content.follow_up_done once it is done. The dashboard reads the open ones due by today through
-- this index; it holds only open follow-ups, so the many notes without one cost nothing.
CREATE INDEX communication_logs_follow_ups
    ON communication_logs(workspace_id, json_extract(content, '$.follow_up_on'))
    WHERE json_extract(content, '$.follow_up_on') IS NOT NULL
      AND json_extract(content, '$.follow_up_done') IS NULL;
