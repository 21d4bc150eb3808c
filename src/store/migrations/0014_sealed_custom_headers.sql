-- Custom header values are sealed at rest (issue 13): endpoint.headers now maps each lower-case name
-- to {"sealed": "v1.<keyId>.<iv>.<ciphertext>"} (SecretBox, aad = endpoint id and name), so a dump
-- holds no receiver credential. SQL cannot seal (the key never reaches the database), so rows written
-- before this migration keep plain string values until Herald seals them: a sweep at every start, in
-- bounded batches, and `herald secrets rotate-key`. This index holds exactly those rows, so the sweep
-- finds them without reading the table, and is empty once they are sealed. Forward-only.
comment on column endpoint.headers is
  'custom headers sent with every delivery: name -> {"sealed": …} (values sealed with HERALD_SECRET_KEY); a plain string only in rows from before 0014 not yet swept';

create index endpoint_clear_headers_idx on endpoint (id)
  where jsonb_path_exists(headers, 'strict $.* ? (@.type() == "string")');
