-- The ledger's keys and signed tree heads (issue 28, docs/ledger.md §6). The private key is a
-- file the server reads (never in the database): whoever can write here cannot sign.
-- * ledger_keys: the log's public keys in the order they signed. Seq 0 is the first key;
--   each later one carries the endorsement the previous key signed over
--   "stringer-ledger/v1 rotate\0" || key_id(previous) || public_key || u64be(endorsed_at).
--   A server starts only with the key of the highest seq.
-- * ledger_heads: one signed head per tree size (two instances signing one size store one):
--   the root of the first tree_size leaves, when it was signed (Unix seconds), the signing
--   key's id and the Ed25519 signature over the 104-byte head (with ledger_state.log_id).
CREATE TABLE ledger_keys (
    seq INTEGER PRIMARY KEY,
    key_id BLOB NOT NULL UNIQUE,
    public_key BLOB NOT NULL,
    added_at BIGINT NOT NULL,
    endorsed_at BIGINT,
    endorsement BLOB
);
CREATE TABLE ledger_heads (
    tree_size INTEGER PRIMARY KEY,
    root_hash BLOB NOT NULL,
    signed_at BIGINT NOT NULL,
    key_id BLOB NOT NULL,
    signature BLOB NOT NULL
);
