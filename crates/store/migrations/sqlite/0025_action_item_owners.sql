-- An action item's owner is a staff member (their user id) from now on. Owners written
-- before, as people wrote them, become the staff member whose address or name they are
-- (ignoring case and surrounding spaces); any other words stay as written: the report shows
-- them as they are, and the editor asks for a staff member when the report is next saved.
UPDATE report_versions
SET sections = json_set(sections, '$.action_items', json((
    SELECT json_group_array(json(json_set(i.value, '$.owner', COALESCE(
        (SELECT u.id FROM users u
         WHERE u.org IS NULL
           AND (lower(u.email) = lower(trim(json_extract(i.value, '$.owner')))
                OR lower(u.name) = lower(trim(json_extract(i.value, '$.owner'))))
         ORDER BY u.deactivated_at IS NOT NULL, u.id LIMIT 1),
        json_extract(i.value, '$.owner')))))
    FROM json_each(report_versions.sections, '$.action_items') AS i
)))
WHERE json_array_length(sections, '$.action_items') > 0;
