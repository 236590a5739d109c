use clap::Parser;

fn main() {
    let cli = trailproof::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trailproof: cannot start the async runtime: {e}");
            std::process::exit(3);
        }
    };
    let mut stdout = std::io::stdout().lock();
    let code = match runtime.block_on(trailproof::cli::run(cli, &mut stdout)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("trailproof: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
