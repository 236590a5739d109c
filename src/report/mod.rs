//! Reporters: each renders one `validate::Report` to any writer.
pub mod evidence;
pub mod json;
pub mod text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}
