//! The commands, one module per group.

mod auth;
mod blockmodels;
mod config;
pub mod files;
mod objects;
mod orgs;
mod watch;
mod workspaces;

use crate::cli::Command;
use crate::error::CliResult;
use crate::session::Session;

/// Runs `command` in `session`.
pub async fn run(session: &mut Session, command: Command) -> CliResult<()> {
    match command {
        Command::Login(args) => auth::login(session, args).await,
        Command::Logout => auth::logout(session).await,
        Command::Status => auth::status(session).await,
        Command::Config(command) => config::run(session, command),
        Command::Orgs { command } => orgs::run(session, command).await,
        Command::Workspaces(command) => workspaces::run(session, command).await,
        Command::Files(command) => files::run(session, command).await,
        Command::Objects(command) => objects::run(session, command).await,
        Command::BlockModels(command) => blockmodels::run(session, command).await,
        Command::Watch(command) => watch::run(session, command).await,
        Command::Completions { .. } | Command::Emulator(_) => Ok(()),
    }
}
