//! The contracts the server ran under — the [`ContractHistory`] port.

use crate::rows::RowExt;
use crate::{SqlStore, backend_err};
use async_trait::async_trait;
use sqlx::any::AnyRow;
use stringer_app::StoreError;
use stringer_app::history::{ContractHistory, ContractRecord};

fn record_from(r: &AnyRow) -> Result<ContractRecord, StoreError> {
    Ok(ContractRecord {
        at: r.col("at")?,
        name: r.col("name")?,
        version: r.col("version")?,
        sha256: r.col("sha256")?,
        source: r.col("source")?,
        stringer_version: r.col("stringer_version")?,
    })
}

#[async_trait]
impl ContractHistory for SqlStore {
    async fn record_contract(&self, record: &ContractRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO contract_history (at, name, version, sha256, source, stringer_version) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM contract_history \
             WHERE id = (SELECT MAX(id) FROM contract_history) AND sha256 = $4 AND stringer_version = $6)",
        )
        .bind(record.at)
        .bind(record.name.as_str())
        .bind(record.version.as_str())
        .bind(record.sha256.as_str())
        .bind(record.source.as_str())
        .bind(record.stringer_version.as_str())
        .execute(&self.write)
        .await
        .map_err(backend_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn contracts(&self) -> Result<Vec<ContractRecord>, StoreError> {
        let sql = "SELECT at, name, version, sha256, source, stringer_version FROM contract_history ORDER BY id";
        self.rows(sqlx::query(sql), record_from).await
    }
}
