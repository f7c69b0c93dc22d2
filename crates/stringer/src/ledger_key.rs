//! The ledger's signing key: an Ed25519 seed in a file of its own (`--ledger-key`, or
//! `ledger.key` in the data directory), never in the database — whoever can write the
//! database must not be able to sign — and never logged. Created with mode 0600 on first use;
//! a file that its group or others may read is refused.

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use stringer_ledger::head::SigningKey;
use stringer_ledger::wire;

/// What a key file starts with; the base64 of the 32-byte seed follows.
const HEADER: &str = "stringer-ledger-key/1 ";

/// The key file's name in the data directory when none is given.
pub const DEFAULT_FILE: &str = "ledger.key";

/// Where the key is: the flag (or `STRINGER_LEDGER_KEY`), else the config file's `ledger_key`,
/// else `ledger.key` in the data directory (the flag's, the config file's, or the working
/// directory).
pub fn path(flag: Option<&Path>, data_dir: Option<&Path>, config: &crate::config::ConfigFile) -> PathBuf {
    flag.map(Path::to_path_buf).or_else(|| config.ledger_key.clone()).unwrap_or_else(|| {
        data_dir
            .map(Path::to_path_buf)
            .or_else(|| config.data_dir.clone())
            .unwrap_or_else(|| ".".into())
            .join(DEFAULT_FILE)
    })
}

/// Reads the key at `path`, refusing a file its group or others may read.
pub fn load(path: &Path) -> Result<SigningKey> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read the ledger key {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "the ledger key {} may be read by its group or others (mode {mode:o}); only its owner may read it: \
             chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the ledger key {}", path.display()))?;
    let seed = text
        .trim()
        .strip_prefix(HEADER.trim_end())
        .map(str::trim)
        .and_then(|b64| wire::parse_base64::<32>(b64).ok())
        .with_context(|| format!("{} is not a ledger key ({HEADER}<base64 of 32 bytes>)", path.display()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads the key at `path`, creating a new one (mode 0600) if there is no file: the first
/// start of a server makes its log's key. Two instances starting at once make one.
pub fn load_or_create(path: &Path) -> Result<SigningKey> {
    let seed: [u8; 32] = rand::random();
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(mut file) => {
            file.write_all(format!("{HEADER}{}\n", wire::to_base64(&seed)).as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write the ledger key {}", path.display()))?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load(path),
        Err(e) => Err(e).with_context(|| format!("cannot create the ledger key {}", path.display())),
    }
}
