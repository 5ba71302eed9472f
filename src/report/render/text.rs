//! `--format text`: the document as plain text at most `--width` columns wide: paragraphs
//! wrapped, tables drawn by comfy-table with column widths that cut no word outside the
//! reply column (see [`column_widths`]), or as records when they cannot be. Every string
//! passes through [`clean`] on the way out.

use std::io::{self, Write};

use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, Table, Width, presets};

use super::Block;
use crate::util::sanitize::clean;
use crate::util::text::wrap;

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

/// The width of the terminal on standard output, if it is one.
pub fn terminal_width() -> Option<u16> {
    Table::new().width()
}

/// Renders plain text (comfy-table tables), at most `width` columns wide.
pub fn render_text(blocks: &[Block], w: &mut dyn Write, color: bool, width: u16) -> io::Result<()> {
    let style = Style { on: color };
    for b in blocks {
        match b {
            Block::Title(t) => {
                for line in wrap(&clean(t), width as usize) {
                    writeln!(w, "{}", style.bold(&line))?;
                }
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
                let width = width as usize;
                match table(headers, right, rows, *flex, width) {
                    Some(t) => writeln!(w, "{t}")?,
                    None => records(w, headers, rows, *flex, width)?,
                }
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

/// The widest line of a cell, in characters.
fn line_width(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// The longest word of a cell (what wrapping at spaces cannot make narrower).
fn word_width(s: &str) -> usize {
    s.split([' ', '\n'])
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0)
}

/// The flex column keeps at least this many characters (or its content, when shorter)
/// before the columns beside it must wrap.
const FLEX_MIN: usize = 24;

/// The flex column wraps to at most this many lines in text; the whole text is in Markdown,
/// JSON, CSV and `trace`.
const FLEX_LINES: usize = 3;

/// The flex cell of a record takes about this many lines (records are as wide as the text).
const RECORD_FLEX_LINES: usize = 2;

/// The content width of each column of a table that must fit `avail` characters of content
/// (the width without borders and padding). No column is cut: a column narrower than its
/// content wraps. In order, while the table is too wide:
/// 1. the flex column gives way down to [`FLEX_MIN`];
/// 2. the other columns wrap at spaces (down to their longest word), first those with the
///    fewest cells that would wrap (`spread`: the cells wider than the column's longest
///    word), of these the widest first;
/// 3. the flex column gives way down to a third of [`FLEX_MIN`];
/// 4. the columns with the shortest longest word wrap inside words, then the flex column
///    gives way down to 3, then the column with the longest word (the key: a domain, an
///    address, a queue ID) wraps, last.
fn column_widths(
    natural: &[usize],
    words: &[usize],
    spread: &[usize],
    flex: Option<usize>,
    avail: usize,
) -> Vec<usize> {
    let mut w = natural.to_vec();
    let total = |w: &[usize]| w.iter().sum::<usize>();
    let give = |w: &mut Vec<usize>, i: usize, floor: usize| {
        let excess = total(w).saturating_sub(avail);
        let cut = excess.min(w[i].saturating_sub(floor));
        w[i] -= cut;
    };
    if let Some(f) = flex {
        give(&mut w, f, FLEX_MIN.min(natural[f]));
    }
    let mut others: Vec<usize> = (0..w.len()).filter(|i| Some(*i) != flex).collect();
    others.sort_by_key(|i| {
        (
            spread[*i],
            std::cmp::Reverse(natural[*i] - words[*i].min(natural[*i])),
        )
    });
    for &i in &others {
        give(&mut w, i, words[i].min(natural[i]));
    }
    if let Some(f) = flex {
        give(&mut w, f, (FLEX_MIN / 3).min(natural[f]));
    }
    others.sort_by_key(|i| words[*i]);
    let key = others.pop();
    for &i in &others {
        give(&mut w, i, 3);
    }
    if let Some(f) = flex {
        give(&mut w, f, 3);
    }
    if let Some(k) = key {
        give(&mut w, k, 3);
    }
    w.iter_mut().for_each(|x| *x = (*x).max(1));
    w
}

/// A table drawn by comfy-table at most `width` columns wide (see [`column_widths`]), or
/// `None` when it cannot be without wrapping inside a word of a column other than the flex
/// column: [`records`] shows it then.
fn table(
    headers: &[String],
    right: &[bool],
    rows: &[Vec<String>],
    flex: Option<usize>,
    width: usize,
) -> Option<Table> {
    let headers: Vec<String> = headers.iter().map(|h| clean(h).into_owned()).collect();
    let mut rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clean(c).into_owned()).collect())
        .collect();
    let ncol = headers.len();
    let measure = |f: fn(&str) -> usize, rows: &[Vec<String>]| -> Vec<usize> {
        (0..ncol)
            .map(|i| {
                rows.iter()
                    .filter_map(|r| r.get(i))
                    .chain(std::iter::once(&headers[i]))
                    .map(|c| f(c))
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    };
    let (natural, words) = (measure(line_width, &rows), measure(word_width, &rows));
    let spread: Vec<usize> = (0..ncol)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .filter(|c| line_width(c) > word_width(c))
                .count()
        })
        .collect();
    // A border on each side, a line between columns and a space of padding on each side of
    // every column.
    let avail = width.saturating_sub(3 * ncol + 1);
    let least: usize = (0..ncol)
        .map(|i| match flex {
            Some(f) if f == i => natural[i].min(FLEX_MIN),
            _ => words[i],
        })
        .sum();
    if least > avail {
        return None;
    }
    let widths = column_widths(&natural, &words, &spread, flex, avail);
    if let Some(f) = flex {
        for r in &mut rows {
            if let Some(c) = r.get_mut(f) {
                *c = wrap_lines(c, widths[f], FLEX_LINES);
            }
        }
    }
    let mut t = Table::new();
    t.load_preset(presets::ASCII_BORDERS_ONLY_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width.min(u16::MAX as usize) as u16)
        .set_header(headers);
    for row in rows {
        t.add_row(row);
    }
    for (i, cw) in widths.iter().enumerate() {
        if let Some(col) = t.column_mut(i) {
            let fixed = (cw + 2).min(u16::MAX as usize) as u16;
            col.set_constraint(ColumnConstraint::Absolute(Width::Fixed(fixed)));
            if right.get(i) == Some(&true) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    Some(t)
}

/// A table too wide for `width` as records: per row, a line with its first cell (the key:
/// a domain, a sender, a recipient), then the other cells as `Header: value`, indented and
/// wrapped; the flex cell takes about [`RECORD_FLEX_LINES`] lines at most.
fn records(
    w: &mut dyn Write,
    headers: &[String],
    rows: &[Vec<String>],
    flex: Option<usize>,
    width: usize,
) -> io::Result<()> {
    let indent = 4;
    let room = width.saturating_sub(indent).max(20);
    for row in rows {
        let row: Vec<String> = row.iter().map(|c| clean(c).into_owned()).collect();
        for line in wrap(row.first().map(String::as_str).unwrap_or(""), width) {
            writeln!(w, "{line}")?;
        }
        let mut rest = Vec::new();
        for (i, cell) in row.iter().enumerate().skip(1) {
            let h = clean(headers.get(i).map(String::as_str).unwrap_or("")).into_owned();
            let cell = if Some(i) == flex {
                let prefix = h.chars().count() + 2;
                wrap_lines(cell, (room * RECORD_FLEX_LINES).saturating_sub(prefix), 1)
            } else {
                cell.clone()
            };
            rest.push(if h.is_empty() {
                cell
            } else {
                format!("{h}: {cell}")
            });
        }
        if !rest.is_empty() {
            for line in wrap(&rest.join(", "), room) {
                writeln!(w, "{:indent$}{line}", "")?;
            }
        }
    }
    Ok(())
}

/// `s` wrapped to `width`, at most `max` lines; a cut is marked with `…`.
fn wrap_lines(s: &str, width: usize, max: usize) -> String {
    let mut lines = wrap(s, width);
    if lines.len() > max {
        lines.truncate(max);
        let last = &mut lines[max - 1];
        if last.chars().count() >= width {
            *last = last.chars().take(width.saturating_sub(1)).collect();
        }
        last.push('…');
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_column_is_cut() {
        // Recipient, Outcome, Cause, Last error (flex) in 60 characters of content.
        let w = column_widths(&[30, 8, 12, 80], &[30, 8, 12, 20], &[0; 4], Some(3), 60);
        assert_eq!(w, vec![30, 8, 12, 10]);
        // Too narrow even so: the short words wrap first, the key last.
        let w = column_widths(&[30, 8, 12, 80], &[30, 8, 12, 20], &[0; 4], Some(3), 40);
        assert_eq!(w, vec![30, 3, 3, 4]);
        let w = column_widths(&[30, 8, 12, 80], &[30, 8, 12, 20], &[0; 4], Some(3), 20);
        assert_eq!(w, vec![11, 3, 3, 3]);
        // Room enough: nothing changes.
        assert_eq!(
            column_widths(&[5, 6], &[5, 6], &[0, 0], None, 20),
            vec![5, 6]
        );
        // The column that wraps in fewer cells gives way first, though it has less slack.
        let w = column_widths(&[11, 12], &[6, 4], &[2, 9], None, 20);
        assert_eq!(w, vec![8, 12]);
        let w = column_widths(&[11, 12], &[6, 4], &[2, 9], None, 16);
        assert_eq!(w, vec![6, 10]);
    }

    #[test]
    fn wrapped_cells_stop_at_max_lines() {
        assert_eq!(wrap_lines("aa bb cc dd", 5, 2), "aa bb\ncc dd");
        assert_eq!(wrap_lines("aa bb cc dd ee", 5, 2), "aa bb\ncc d…");
    }
}
