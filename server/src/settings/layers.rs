//! The four layers as figments: all merged (defaults < file < environment < flags), or one
//! alone over the defaults.

use std::collections::BTreeMap;

use figment::providers::Serialized;
use figment::Figment;

use super::defaults::Defaults;
use super::env::EnvLayer;
use super::file::FileLayer;

/// The command-line flags given, by key; a type of its own so that its figment metadata
/// (named after the type) tells flag values from defaults.
#[derive(serde::Serialize)]
#[serde(transparent)]
pub(super) struct Flags(BTreeMap<String, String>);

/// The layers given to [`Settings::load`](super::Settings::load).
pub(super) struct Layers {
    file: Option<FileLayer>,
    env: EnvLayer,
    flags: Flags,
}

impl Layers {
    /// The file (if any), the environment and the flags (pairs of key and value text).
    pub(super) fn new(file: Option<FileLayer>, env: EnvLayer, flags: &[(&str, String)]) -> Layers {
        let flags = flags
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect();
        Layers {
            file,
            env,
            flags: Flags(flags),
        }
    }

    /// Each layer that a later one can override (the file, the environment), alone over the
    /// defaults.
    pub(super) fn overridable(&self) -> Vec<Figment> {
        let mut alone: Vec<Figment> = self
            .file
            .iter()
            .map(|file| defaults().merge(file.clone()))
            .collect();
        alone.push(defaults().merge(self.env.clone()));
        alone
    }

    /// Every layer merged, each later one winning.
    pub(super) fn merged(self) -> Figment {
        let mut figment = defaults();
        if let Some(file) = self.file {
            figment = figment.merge(file);
        }
        figment
            .merge(self.env)
            .merge(Serialized::defaults(self.flags))
    }
}

/// The defaults layer alone.
fn defaults() -> Figment {
    Figment::from(Serialized::defaults(Defaults::new()))
}
