//! `evo config ...`: the configuration file.

use serde_json::json;

use crate::cli::ConfigCommand;
use crate::error::CliResult;
use crate::output::{Table, print_json};
use crate::session::Session;

/// Runs an `evo config` command.
pub fn run(session: &mut Session, command: ConfigCommand) -> CliResult<()> {
    match command {
        ConfigCommand::Show => {
            let shown = session.profile.redacted_json();
            if session.json() {
                return print_json(&json!({"profile": session.profile_name, "settings": shown}));
            }
            println!(
                "profile {:?} ({})",
                session.profile_name,
                session.dir.config_file().display()
            );
            if let Some(map) = shown.as_object() {
                for (key, value) in map {
                    let value = value
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| value.to_string());
                    println!("  {key} = {value}");
                }
            }
            Ok(())
        }
        ConfigCommand::Set { key, value } => {
            session.profile.set(&key, Some(value))?;
            session.save_profile()?;
            done(session, &key, "set")
        }
        ConfigCommand::Unset { key } => {
            session.profile.set(&key, None)?;
            session.save_profile()?;
            done(session, &key, "removed")
        }
        ConfigCommand::Profiles => {
            let default = session
                .config
                .default_profile
                .clone()
                .unwrap_or_else(|| crate::config::DEFAULT_PROFILE.to_owned());
            if session.json() {
                let names: Vec<&String> = session.config.profiles.keys().collect();
                return print_json(&json!({"default": default, "profiles": names}));
            }
            let mut table = Table::new(["PROFILE", "DEFAULT", "CLIENT", "WORKSPACE"]);
            for (name, profile) in &session.config.profiles {
                table.row(vec![
                    name.clone(),
                    if *name == default {
                        "*".into()
                    } else {
                        String::new()
                    },
                    profile.client_id.clone().unwrap_or_default(),
                    profile.workspace.clone().unwrap_or_default(),
                ]);
            }
            table.print("No profiles yet: `evo login` creates one.");
            Ok(())
        }
        ConfigCommand::UseProfile => {
            session.config.default_profile = Some(session.profile_name.clone());
            session.save_profile()?;
            done(session, "default_profile", "set")
        }
        ConfigCommand::Path => {
            if session.json() {
                return print_json(
                    &json!({"config_dir": session.dir.root(), "config_file": session.dir.config_file()}),
                );
            }
            println!("{}", session.dir.config_file().display());
            Ok(())
        }
    }
}

fn done(session: &Session, key: &str, what: &str) -> CliResult<()> {
    if session.json() {
        return print_json(&json!({"profile": session.profile_name, "key": key, "done": what}));
    }
    println!("{key} {what} in profile {:?}", session.profile_name);
    Ok(())
}
