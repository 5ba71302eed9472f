//! `report`, `trace` and `follow` commands (being built).

use std::process::ExitCode;

use crate::cli::{FollowArgs, ReportArgs, TraceArgs};

pub fn run(_args: &ReportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("report: not built yet")
}

pub fn trace(_args: &TraceArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("trace: not built yet")
}

pub fn follow(_args: &FollowArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("follow: not built yet")
}
