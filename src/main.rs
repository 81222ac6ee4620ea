use std::process::ExitCode;

fn main() -> ExitCode {
    pi_crm::cli::main()
}
