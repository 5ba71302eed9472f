//! `--format json`: the [`Report`] serialised as one JSON document (schema version
//! [`crate::report::REPORT_SCHEMA_VERSION`], documented in the README and man page), with control
//! characters escaped.

use std::io::{self, Write};

use crate::report::Report;
use crate::util::sanitize;

pub fn render(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    sanitize::write_json_line(w, r)
}
