//! Project automation for evo-rs (`cargo xtask <command>`).

fn main() {
    eprintln!("usage: cargo xtask <ci|test|codegen|bench>");
    std::process::exit(2);
}
