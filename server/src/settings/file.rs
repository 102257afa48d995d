//! The TOML configuration file as a figment layer.
//!
//! The file is read and parsed here, with the `toml` crate the rest of the relay uses, rather
//! than by figment's `Toml` provider: that provider yields nothing for a missing file (here an
//! error) and parses with an older `toml`, whose messages differ from the ones operators see
//! today.

use std::path::{Path, PathBuf};

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

use super::error::SettingsError;

/// A parsed configuration file.
#[derive(Clone)]
pub(super) struct FileLayer {
    path: PathBuf,
    table: toml::Table,
}

impl FileLayer {
    /// Reads and parses the file at `path`.
    pub(super) fn read(path: &Path) -> Result<FileLayer, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|error| SettingsError::Read {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        let table: toml::Table =
            text.parse()
                .map_err(|error: toml::de::Error| SettingsError::Syntax {
                    path: path.to_owned(),
                    reason: error.to_string().trim_end().to_owned(),
                })?;
        Ok(FileLayer {
            path: path.to_owned(),
            table,
        })
    }
}

impl Provider for FileLayer {
    /// Named like figment's own TOML provider, with the file as its source: the origin of a
    /// value is read back from that source.
    fn metadata(&self) -> Metadata {
        Metadata::from("TOML file", self.path.as_path())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut table = self.table.clone();
        if let Some(toml::Value::Table(limits)) = table.get_mut("limits") {
            for (_, value) in limits.iter_mut() {
                if let toml::Value::Datetime(datetime) = &*value {
                    // figment would hold a datetime as a table; the fields of `[limits]` are
                    // numbers, and `toml` shows them a datetime as its text, so the error
                    // names the text.
                    *value = toml::Value::String(datetime.to_string());
                }
            }
        }
        let dict = Value::serialize(&table)?
            .into_dict()
            .ok_or_else(|| figment::Error::from("a TOML document is a table".to_owned()))?;
        Ok(Profile::Default.collect(dict))
    }
}
