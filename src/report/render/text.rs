//! `--format text`: the document as plain text, tables drawn by comfy-table, paragraphs
//! wrapped to the width. Every string passes through [`clean`] on the way out.

use std::io::{self, Write};

use comfy_table::{CellAlignment, ContentArrangement, Table, presets};

use super::Block;
use crate::util::sanitize::clean;
use crate::util::text::shorten;

/// ANSI styling used on a terminal.
struct Style {
    on: bool,
}

impl Style {
    fn bold(&self, s: &str) -> String {
        if self.on {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// Renders plain text (comfy-table tables), at most `width` columns wide.
pub fn render_text(blocks: &[Block], w: &mut dyn Write, color: bool, width: u16) -> io::Result<()> {
    let style = Style { on: color };
    for b in blocks {
        match b {
            Block::Title(t) => {
                writeln!(w, "{}", style.bold(&clean(t)))?;
                writeln!(w)?;
            }
            Block::Heading(h) => {
                writeln!(w)?;
                writeln!(w, "{}", style.bold(&clean(h)))?;
                writeln!(w, "{}", "=".repeat(h.chars().count()))?;
            }
            Block::SubHeading(h) => {
                writeln!(w)?;
                for line in wrap(&clean(h), width as usize) {
                    writeln!(w, "{line}")?;
                }
            }
            Block::Para(p) => {
                for line in wrap(&clean(p), width as usize) {
                    writeln!(w, "{line}")?;
                }
            }
            Block::Fields(fs) => {
                let kw = fs.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
                for (k, v) in fs {
                    let lines = wrap(&clean(v), (width as usize).saturating_sub(kw + 3).max(20));
                    for (i, line) in lines.iter().enumerate() {
                        if i == 0 {
                            writeln!(w, "{:<kw$}  {line}", format!("{k}:"), kw = kw + 1)?;
                        } else {
                            writeln!(w, "{:<kw$}  {line}", "", kw = kw + 1)?;
                        }
                    }
                }
            }
            Block::Table {
                headers,
                right,
                rows,
                flex,
            } => {
                let rows = fit_flex(headers, rows, *flex, width as usize);
                let mut t = Table::new();
                t.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED)
                    .set_content_arrangement(ContentArrangement::Disabled)
                    .set_width(width)
                    .set_header(headers.iter().map(|h| clean(h).into_owned()));
                for row in &rows {
                    t.add_row(row.iter().map(|c| clean(c).into_owned()));
                }
                for (i, r) in right.iter().enumerate() {
                    if *r && let Some(col) = t.column_mut(i) {
                        col.set_cell_alignment(CellAlignment::Right);
                    }
                }
                writeln!(w, "{t}")?;
            }
            Block::Numbered(items) => {
                for (i, it) in items.iter().enumerate() {
                    let prefix = format!("{:>2}. ", i + 1);
                    for (j, line) in wrap(&clean(it), (width as usize).saturating_sub(4))
                        .iter()
                        .enumerate()
                    {
                        if j == 0 {
                            writeln!(w, "{prefix}{line}")?;
                        } else {
                            writeln!(w, "    {line}")?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Shortens the flex column so that a table with ASCII borders fits `width`.
fn fit_flex(
    headers: &[String],
    rows: &[Vec<String>],
    flex: Option<usize>,
    width: usize,
) -> Vec<Vec<String>> {
    // No cell may take more than this, so hostile or huge values cannot blow the width.
    const CELL_MAX: usize = 40;
    let ncol = headers.len();
    let mut rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, c)| {
                    let c = clean(c).into_owned();
                    if Some(i) == flex {
                        c
                    } else {
                        shorten(&c, CELL_MAX)
                    }
                })
                .collect()
        })
        .collect();
    let Some(f) = flex else {
        return rows;
    };
    let col_width = |rows: &[Vec<String>], i: usize| {
        rows.iter()
            .map(|r| r.get(i).map(|c| c.chars().count()).unwrap_or(0))
            .chain(std::iter::once(headers[i].chars().count()))
            .max()
            .unwrap_or(0)
    };
    // Each column has one space of padding on each side and a one-space separator, and the
    // table a border on each side.
    let others: usize = (0..ncol)
        .filter(|i| *i != f)
        .map(|i| col_width(&rows, i))
        .sum();
    // The flex column should keep at least this much; take it from the widest other column
    // (down to 16 characters) when the others leave too little.
    const FLEX_MIN: usize = 20;
    let fixed = 3 * ncol + 2;
    let deficit = (others + fixed + FLEX_MIN).saturating_sub(width);
    if deficit > 0
        && let Some(widest) = (0..ncol)
            .filter(|i| *i != f)
            .max_by_key(|i| col_width(&rows, *i))
    {
        let cap = col_width(&rows, widest).saturating_sub(deficit).max(16);
        for r in &mut rows {
            if let Some(c) = r.get_mut(widest) {
                *c = shorten(c, cap);
            }
        }
    }
    let others: usize = (0..ncol)
        .filter(|i| *i != f)
        .map(|i| col_width(&rows, i))
        .sum();
    let room = width
        .saturating_sub(others + fixed)
        .max(headers[f].chars().count())
        .max(6);
    for r in &mut rows {
        if let Some(c) = r.get_mut(f) {
            *c = shorten(c, room);
        }
    }
    rows
}

/// Word-wraps a paragraph.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    let width = width.max(1);
    // A word longer than the width (a hostile address) is cut into pieces.
    let words = s.split(' ').flat_map(|w| {
        let chars: Vec<char> = w.chars().collect();
        if chars.len() <= width {
            vec![w.to_string()]
        } else {
            chars.chunks(width).map(|c| c.iter().collect()).collect()
        }
    });
    for word in words {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(&word);
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(wrap("abcdefghij x", 4), vec!["abcd", "efgh", "ij x"]);
    }
}
