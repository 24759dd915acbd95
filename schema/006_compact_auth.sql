-- dmarcq schema, version 6: a record's authentication results and reasons in
-- the record's own row, as JSON arrays (NULL when there are none). Storing a
-- record took four b-tree inserts (records, dkim_results, spf_results,
-- reasons) and now takes one. The three tables remain as read-only views with
-- the same columns, for `dmarcq sql` and the README's examples.
--
--   dkim     [{"domain", "selector", "result", "result_raw", "human_result"}, ...]
--   spf      [{"domain", "scope", "scope_raw", "result", "result_raw", "human_result"}, ...]
--   reasons  [{"type", "type_raw", "comment"}, ...]
-- in the report's order; a member is left out when its column would be NULL.

ALTER TABLE records ADD COLUMN dkim TEXT;
ALTER TABLE records ADD COLUMN spf TEXT;
ALTER TABLE records ADD COLUMN reasons TEXT;

-- json_patch('{}', ...) drops the members whose value is NULL.
UPDATE records SET dkim = (
  SELECT json_group_array(json(json_patch('{}', json_object(
           'domain', d.domain, 'selector', d.selector, 'result', d.result, 'result_raw', d.result_raw,
           'human_result', d.human_result))))
  FROM (SELECT * FROM dkim_results WHERE record = records.id ORDER BY seq) d)
WHERE id IN (SELECT record FROM dkim_results);

UPDATE records SET spf = (
  SELECT json_group_array(json(json_patch('{}', json_object(
           'domain', s.domain, 'scope', s.scope, 'scope_raw', s.scope_raw, 'result', s.result,
           'result_raw', s.result_raw, 'human_result', s.human_result))))
  FROM (SELECT * FROM spf_results WHERE record = records.id ORDER BY seq) s)
WHERE id IN (SELECT record FROM spf_results);

UPDATE records SET reasons = (
  SELECT json_group_array(json(json_patch('{}', json_object(
           'type', e.type, 'type_raw', e.type_raw, 'comment', e.comment))))
  FROM (SELECT * FROM reasons WHERE record = records.id ORDER BY seq) e)
WHERE id IN (SELECT record FROM reasons);

DROP TABLE dkim_results;
DROP TABLE spf_results;
DROP TABLE reasons;

CREATE VIEW dkim_results (record, seq, domain, selector, result, result_raw, human_result) AS
  SELECT r.id, j.key, json_extract(j.value, '$.domain'), json_extract(j.value, '$.selector'),
         json_extract(j.value, '$.result'), json_extract(j.value, '$.result_raw'),
         json_extract(j.value, '$.human_result')
  FROM records r, json_each(r.dkim) j;

CREATE VIEW spf_results (record, seq, domain, scope, scope_raw, result, result_raw, human_result) AS
  SELECT r.id, j.key, json_extract(j.value, '$.domain'), json_extract(j.value, '$.scope'),
         json_extract(j.value, '$.scope_raw'), json_extract(j.value, '$.result'),
         json_extract(j.value, '$.result_raw'), json_extract(j.value, '$.human_result')
  FROM records r, json_each(r.spf) j;

CREATE VIEW reasons (record, seq, type, type_raw, comment) AS
  SELECT r.id, j.key, json_extract(j.value, '$.type'), json_extract(j.value, '$.type_raw'),
         json_extract(j.value, '$.comment')
  FROM records r, json_each(r.reasons) j;
