//! `--format markdown`: the document as GitHub-flavoured Markdown. Every string passes
//! through the Markdown sanitiser on the way out ([`sanitize::markdown`], or a code span).

use std::io::{self, Write};

use super::Block;
use crate::util::sanitize;

/// A table cell: every Markdown special character escaped (no log text becomes a link,
/// emphasis or a table break), on one line.
fn md_cell(s: &str) -> String {
    sanitize::markdown(&s.replace('\n', " "))
}

/// Running text: the same escaping (addresses and angle brackets stay inert).
fn md_text(s: &str) -> String {
    sanitize::markdown(s)
}

/// Renders GitHub-flavoured Markdown that pastes cleanly into a ticket or chat.
pub fn render_markdown(blocks: &[Block], w: &mut dyn Write) -> io::Result<()> {
    for b in blocks {
        match b {
            Block::Title(t) => writeln!(w, "# {}\n", md_text(t))?,
            Block::Heading(h) => writeln!(w, "\n## {}\n", md_text(h))?,
            Block::SubHeading(h) => writeln!(w, "\n**{}**\n", md_text(h))?,
            Block::Para(p) => writeln!(w, "{}\n", md_text(p))?,
            Block::Fields(fs) => {
                for (k, v) in fs {
                    writeln!(w, "- **{}:** {}", md_text(k), md_text(v))?;
                }
                writeln!(w)?;
            }
            Block::Table {
                headers,
                right,
                rows,
                ..
            } => {
                writeln!(
                    w,
                    "| {} |",
                    headers
                        .iter()
                        .map(|h| md_cell(h))
                        .collect::<Vec<_>>()
                        .join(" | ")
                )?;
                writeln!(
                    w,
                    "|{}|",
                    right
                        .iter()
                        .map(|r| if *r { "---:" } else { "---" })
                        .collect::<Vec<_>>()
                        .join("|")
                )?;
                for row in rows {
                    writeln!(
                        w,
                        "| {} |",
                        row.iter()
                            .map(|c| {
                                // Addresses in code spans: GitHub resolves @mentions and
                                // autolinks after escapes, never inside code.
                                if c.contains('@') || c.contains('<') {
                                    sanitize::markdown_code_cell(&c.replace('\n', " "))
                                } else {
                                    md_cell(c)
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(" | ")
                    )?;
                }
                writeln!(w)?;
            }
            Block::Numbered(items) => {
                for (i, it) in items.iter().enumerate() {
                    writeln!(w, "{}. {}", i + 1, md_text(it))?;
                }
                writeln!(w)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_escape_pipes_and_controls() {
        // `[` is escaped too: no log text starts a link.
        assert_eq!(md_cell("a|b\x1b[1m"), "a\\|b\\\\x1b\\[1m");
    }
}
