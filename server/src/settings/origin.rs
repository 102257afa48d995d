//! The layer of a value, read back from the figment metadata of the provider that set it.

use figment::value::Value;
use figment::{Figment, Profile};

use super::env;
use super::flag_name;
use super::layers::Flags;
use super::source::Source;

/// The layer that set `value`, found at key `path`, from the metadata of its provider.
pub(super) fn origin(figment: &Figment, value: &Value, path: &[&str]) -> Source {
    match figment.get_metadata(value.tag()) {
        Some(metadata) => metadata_origin(metadata, path),
        None => Source::Default,
    }
}

/// The layer a provider's metadata names, for the value at key `path`.
pub(super) fn metadata_origin(metadata: &figment::Metadata, path: &[&str]) -> Source {
    if let Some(file) = metadata
        .source
        .as_ref()
        .and_then(figment::Source::file_path)
    {
        return Source::File(file.to_owned());
    }
    if metadata.name == env::LAYER_NAME {
        return Source::Env(metadata.interpolate(&Profile::Default, path));
    }
    if metadata.name == std::any::type_name::<Flags>() {
        return Source::Flag(flag_name(&path.join(".")));
    }
    Source::Default
}
