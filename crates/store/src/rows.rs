//! Reading rows: typed columns with one error for every decode failure, so each mapper is a
//! list of its columns.

use crate::backend_err;
use sqlx::any::AnyRow;
use sqlx::{Any, Decode, Row, Type};
use stringer_app::StoreError;

/// Typed access to a row's columns.
pub(crate) trait RowExt {
    /// The column `name`.
    fn col<'r, T: Decode<'r, Any> + Type<Any>>(&'r self, name: &str) -> Result<T, StoreError>;
    /// A 0/1 integer column as a boolean.
    fn flag(&self, name: &str) -> Result<bool, StoreError>;
    /// A JSON text column, deserialized.
    fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError>;
    /// A text column holding a snake_case name of `T` (as serde writes it).
    fn named<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError>;
}

impl RowExt for AnyRow {
    fn col<'r, T: Decode<'r, Any> + Type<Any>>(&'r self, name: &str) -> Result<T, StoreError> {
        self.try_get(name).map_err(backend_err)
    }

    fn flag(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.col::<i64>(name)? != 0)
    }

    fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        let text: String = self.col(name)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Backend(format!("bad JSON in column {name}: {e}")))
    }

    fn named<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, StoreError> {
        let text: String = self.col(name)?;
        serde_json::from_value(serde_json::Value::String(text.clone()))
            .map_err(|_| StoreError::Backend(format!("bad value {text:?} in column {name}")))
    }
}

/// A domain value as its JSON text.
pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("domain values serialize")
}

/// A unit-like enum value as the name serde writes for it (e.g. `federal`).
pub(crate) fn name_of<T: serde::Serialize>(v: &T) -> String {
    json(v).trim_matches('"').to_string()
}

/// A read, built and bound, ready to run.
pub(crate) type Read<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

impl crate::SqlStore {
    /// Every row `read` answers (on the read pool), each mapped by `map`.
    pub(crate) async fn rows<T>(
        &self,
        read: Read<'_>,
        map: impl Fn(&AnyRow) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        read.fetch_all(&self.read).await.map_err(backend_err)?.iter().map(map).collect()
    }

    /// The row `read` answers, if any (on the read pool), mapped by `map`.
    pub(crate) async fn row<T>(
        &self,
        read: Read<'_>,
        map: impl Fn(&AnyRow) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        read.fetch_optional(&self.read).await.map_err(backend_err)?.as_ref().map(map).transpose()
    }
}

/// A column list ("a, b") of the table aliased `alias`, each column renamed with `prefix`:
/// "alias.a AS prefix_a, alias.b AS prefix_b" (for reading two tables' rows from one join).
pub(crate) fn qualified(alias: &str, columns: &str, prefix: &str) -> String {
    columns.split(", ").map(|c| format!("{alias}.{c} AS {prefix}{c}")).collect::<Vec<_>>().join(", ")
}
