-- Portal tokens carry the authority of the credential that minted them, and no more (issue 13):
-- they stop working as soon as that credential is revoked, expires or is replaced, and they publish
-- messages only when the platform said so. Forward-only.

alter table auth_token
  -- Portal tokens: the credential whose authority this token carries. An auth_token id (an API key,
  -- or the generated operator token), or 'admin:<fingerprint>' of HERALD_ADMIN_TOKEN (a salted scrypt
  -- digest, never the token). Revoking, expiring or replacing it ends this token. Null for other kinds.
  add column minted_by text,
  -- Portal tokens: whether the token may publish messages (create message, send-example). Off unless the
  -- minting request asked for it, so a customer cannot send correctly signed events as the platform.
  add column can_publish boolean not null default false;

-- Portal tokens issued before this migration: those minted by an API key or the generated operator
-- token now die with it. Those minted with HERALD_ADMIN_TOKEN cannot be tied to it after the fact, so
-- they end here (they lived an hour by default, at most 7 days): the platform hands out new links.
update auth_token
set minted_by = case when created_by like 'key\_%' then created_by else 'admin:unknown' end
where kind = 'portal';

alter table auth_token add constraint auth_token_portal_minted_by check (kind <> 'portal' or minted_by is not null);
