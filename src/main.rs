use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

// A request allocates and frees many small buffers across threads; glibc
// malloc spent about a quarter of a create's instructions on them (see
// bench/README.md, "Where a request's time goes").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr: stdout carries the admin commands' JSON and the demo.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    proofme::cli::run(proofme::cli::Cli::parse()).await
}
