use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = mkmanifest::parse_args(&args).and_then(|opts| {
        let summary = mkmanifest::run(&opts)?;
        println!(
            "mkmanifest: {} -> {} ({} bytes, {} binaries, {} services)",
            opts.input.display(),
            opts.output.display(),
            summary.bytes,
            summary.binaries,
            summary.services
        );
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mkmanifest: {e}");
            ExitCode::FAILURE
        }
    }
}
