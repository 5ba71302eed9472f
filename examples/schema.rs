//! Writes the JSON Schemas of the report and of events into `examples/schema/`
//! (`report.v1.schema.json`, `events.v1.schema.json`): `cargo run --example schema` after
//! changing a report or event type. A test checks the committed files are the generated ones.

use mailtrace::cli::SchemaOutput;

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/schema");
    std::fs::create_dir_all(&dir)?;
    for output in [SchemaOutput::Report, SchemaOutput::Events] {
        let path = dir.join(mailtrace::cmd::schema_file_name(output));
        std::fs::write(&path, mailtrace::cmd::schema_json(output))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
