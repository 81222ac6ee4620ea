use std::process::ExitCode;

/// mimalloc gives freed memory back to the system after a short delay; glibc's malloc kept a
/// heavy import's peak (250 MB) resident for good on an idle server.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    pi_crm::cli::main()
}
