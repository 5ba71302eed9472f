//! Writes the man page generated from the clap definitions and `man/prose.roff` on stdout:
//! `cargo run --example man > man/mailtrace.1` after changing a flag or the prose.

use std::io::Write;

fn main() -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(&mailtrace::cmd::man_page()?)?;
    out.flush()
}
