//! `pushlab` — serve every transport, page and demo client (SPEC §1).

use std::process::ExitCode;

use pushlab::config::{Command, Config, USAGE};

fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1), std::env::var("PUSHLAB_ADDR").ok()) {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("pushlab: {message}\nTry 'pushlab --help'.");
            return ExitCode::from(2);
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let server = match pushlab::server::Server::bind(config.clone(), pushlab::app::Pushlab::new) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("pushlab: cannot listen on {}: {e}", config.addr);
            return ExitCode::FAILURE;
        }
    };
    match server.local_addr() {
        // SPEC §1: always the first line on stdout, with the real bound address.
        Ok(addr) => println!("pushlab listening on http://{addr}"),
        Err(e) => {
            eprintln!("pushlab: {e}");
            return ExitCode::FAILURE;
        }
    }
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pushlab: event loop failed: {e}");
            ExitCode::FAILURE
        }
    }
}
