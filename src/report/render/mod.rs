//! The renderers, one file per format: text (`text.rs`, [`render_text`]) and Markdown
//! (`markdown.rs`, [`render_markdown`]) share the document model built by [`document()`];
//! [`json`] and [`csv`] write the [`Report`](super::Report) itself.

pub mod csv;
mod document;
pub mod json;
mod markdown;
pub mod ndjson;
mod text;

pub use document::{Block, document};
pub use markdown::render_markdown;
pub use text::{render_text, terminal_width};
