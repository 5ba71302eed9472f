//! `--format markdown`: the document as GitHub-flavoured Markdown. Every string passes
//! through [`clean`] on the way out.

use std::io::{self, Write};

use super::Block;
use crate::util::sanitize::clean;

fn md_cell(s: &str) -> String {
    clean(s)
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

fn md_text(s: &str) -> String {
    // Keep addresses and angle brackets from turning into HTML or links.
    clean(s).replace('<', "&lt;").replace('>', "&gt;")
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
                                let c = md_cell(c);
                                if c.contains('@') || c.contains('<') {
                                    format!("`{}`", c.replace('`', "'"))
                                } else {
                                    c
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
        assert_eq!(md_cell("a|b\x1b[1m"), "a\\|b\\\\x1b[1m");
    }
}
