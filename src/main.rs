use clap::Parser;

fn main() {
    let cli = trailproof::cli::Cli::parse();
    // Blocking tasks (file opens, inflate + SHA-256 chunks, digest parsing) never wait on one
    // another, so a small pool cannot deadlock; a large one costs memory and thread switches.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // A local copy's evidence is checked by the CPU workers and listed by blocking threads, so
    // its async tasks are few and light: the main thread runs them, and no thread per core waits
    // beside the workers for the cores they use.
    let mut runtime = match cli.evidence_is_local() {
        true => tokio::runtime::Builder::new_current_thread(),
        false => tokio::runtime::Builder::new_multi_thread(),
    };
    let runtime = match runtime.max_blocking_threads(2 * cores + 4).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trailproof: cannot start the async runtime: {e}");
            std::process::exit(3);
        }
    };
    let mut stdout = trailproof::cli::Output::new(std::io::stdout().lock());
    let code = match runtime.block_on(trailproof::cli::run(cli, &mut stdout)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("trailproof: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
