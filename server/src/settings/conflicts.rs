//! Values that are valid alone but not together.

use std::path::PathBuf;

use super::error::SettingsError;
use super::source::Setting;
use super::Settings;

/// Checks the values of `settings` that depend on each other.
pub(super) fn check(settings: &Settings) -> Result<(), SettingsError> {
    let origin = |setting: &Setting<Option<PathBuf>>| setting.source.clone();
    match (&settings.tls_cert.value, &settings.tls_key.value) {
        (Some(_), None) => {
            return Err(SettingsError::Conflict(format!(
                "`tls_cert` is set (by {}) but `tls_key` is not; set both or neither",
                origin(&settings.tls_cert)
            )))
        }
        (None, Some(_)) => {
            return Err(SettingsError::Conflict(format!(
                "`tls_key` is set (by {}) but `tls_cert` is not; set both or neither",
                origin(&settings.tls_key)
            )))
        }
        _ => {}
    }
    if settings.plaintext.value {
        if settings.tls_cert.value.is_some() {
            return Err(SettingsError::Conflict(format!(
                "`plaintext` (set by {}) conflicts with `tls_cert` (set by {})",
                settings.plaintext.source,
                origin(&settings.tls_cert)
            )));
        }
        if !settings.listen.value.ip().is_loopback() {
            return Err(SettingsError::Conflict(format!(
                "`plaintext` (set by {}) is only allowed on a loopback address, but `listen` is {} (set by {})",
                settings.plaintext.source, settings.listen.value, settings.listen.source
            )));
        }
    }
    if settings.metrics_listen.value == Some(settings.listen.value)
        && settings.listen.value.port() != 0
    {
        return Err(SettingsError::Conflict(format!(
            "`metrics_listen` (set by {}) and `listen` (set by {}) are the same address",
            settings.metrics_listen.source, settings.listen.source
        )));
    }
    Ok(())
}
