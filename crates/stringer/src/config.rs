//! Configuration: flags override `STRINGER_*` environment variables (both handled by clap),
//! which override the TOML config file, which overrides built-in defaults.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use stringer_core::contract::Contract;

/// The largest file the CLI reads as a contract or config.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The config file's settings; every one is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Contract file, relative to the config file's directory.
    pub contract: Option<PathBuf>,
    /// Address to listen on, e.g. "127.0.0.1:8080".
    pub listen: Option<String>,
    /// Directory of the embedded database, relative to the config file's directory.
    pub data_dir: Option<PathBuf>,
    /// Database URL (`sqlite://FILE` or `postgres://…`); overrides `data_dir`.
    pub database: Option<String>,
    /// Address of the SMTP listener, e.g. "0.0.0.0:25".
    pub smtp_listen: Option<String>,
    /// The support domains mail is accepted for, e.g. ["support.vendor.example"].
    pub mail_domains: Option<Vec<String>>,
    /// The ledger's signing key file, relative to the config file's directory (default:
    /// `ledger.key` in the data directory).
    pub ledger_key: Option<PathBuf>,
}

impl ConfigFile {
    /// Reads a config file (or nothing when `path` is `None`); paths in it are made relative
    /// to its directory.
    pub fn load(path: Option<&Path>) -> Result<ConfigFile> {
        let Some(path) = path else { return Ok(ConfigFile::default()) };
        let text = read_limited(path)?;
        let mut config: ConfigFile =
            toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.contract = config.contract.map(|c| base.join(c));
        config.data_dir = config.data_dir.map(|d| base.join(d));
        config.ledger_key = config.ledger_key.map(|k| base.join(k));
        Ok(config)
    }
}

/// Reads a text file of at most 1 MiB.
pub fn read_limited(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a file", path.display());
    }
    if meta.len() > MAX_FILE_BYTES {
        bail!("{} is larger than {MAX_FILE_BYTES} bytes", path.display());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {} as UTF-8 text", path.display()))
}

/// Loads the contract in force: `--contract`/`STRINGER_CONTRACT`, else the config file's
/// `contract`, else the built-in default.
pub fn load_contract(flag: Option<&Path>, config: &ConfigFile) -> Result<Contract> {
    match flag.map(Path::to_path_buf).or_else(|| config.contract.clone()) {
        Some(path) => {
            let text = read_limited(&path)?;
            Contract::from_toml(&text, &path.display().to_string()).map_err(|e| anyhow::anyhow!("{e}"))
        }
        None => Ok(Contract::default_contract()),
    }
}
