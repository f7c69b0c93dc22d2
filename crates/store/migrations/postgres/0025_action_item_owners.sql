-- An action item's owner is a staff member (their user id) from now on. Owners written
-- before, as people wrote them, become the staff member whose address or name they are
-- (ignoring case and surrounding spaces); any other words stay as written: the report shows
-- them as they are, and the editor asks for a staff member when the report is next saved.
UPDATE report_versions v
SET sections = jsonb_set(v.sections::jsonb, '{action_items}', (
    SELECT jsonb_agg(jsonb_set(i.item, '{owner}', to_jsonb(COALESCE(
        (SELECT u.id FROM users u
         WHERE u.org IS NULL
           AND (lower(u.email) = lower(trim(i.item->>'owner'))
                OR lower(u.name) = lower(trim(i.item->>'owner')))
         ORDER BY u.deactivated_at IS NOT NULL, u.id LIMIT 1),
        i.item->>'owner',
        ''))) ORDER BY i.n)
    FROM jsonb_array_elements(v.sections::jsonb->'action_items') WITH ORDINALITY AS i(item, n)
))::text
WHERE jsonb_typeof(v.sections::jsonb->'action_items') = 'array'
  AND jsonb_array_length(v.sections::jsonb->'action_items') > 0;
