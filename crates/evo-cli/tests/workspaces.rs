//! End to end: the `evo` binary against the emulator for the skeleton, organizations and
//! workspaces, including the failures a user meets.

use crate::support;

use support::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_usage_errors_and_completions() {
    let env = Env::start().await;
    let help = env.run(&["--help"]).await.ok();
    assert!(help.stdout.contains("Exit codes:"), "{help:?}");
    assert!(help.stdout.contains("--workspace"), "{help:?}");
    env.run(&["no-such-command"]).await.code(2);
    env.run(&["files", "cp", "only-one-argument"]).await.code(2);
    for shell in ["bash", "zsh", "fish"] {
        let script = env.run(&["completions", shell]).await.ok();
        assert!(script.stdout.contains("workspaces"), "{shell}: {script:?}");
    }
    env.run(&["completions", "tcsh"]).await.code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_signed_in_is_exit_3_with_a_hint() {
    let env = Env::start().await;
    let run = env.run(&["workspaces", "ls"]).await.code(3);
    assert!(run.stderr.contains("evo login"), "{run:?}");
    // A public client without a stored token: not signed in either.
    let run = env
        .run(&["--client-id", "cli-public", "orgs"])
        .await
        .code(3);
    assert!(run.stderr.contains("not signed in"), "{run:?}");
    // --json errors are JSON on stderr.
    let run = env.run(&["--json", "workspaces", "ls"]).await.code(3);
    let error: serde_json::Value = serde_json::from_str(run.stderr.trim()).expect("JSON error");
    assert_eq!(error["error"]["kind"], "auth");
    assert_eq!(error["error"]["exit_code"], 3);
    // A wrong secret is refused at sign-in.
    let run = env
        .run(&[
            "login",
            "--client-id",
            "cli-service",
            "--client-secret",
            "wrong",
        ])
        .await
        .code(3);
    assert!(
        !run.stderr.contains("wrong"),
        "the secret is not echoed: {run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_flag_runs_against_a_fresh_in_process_emulator() {
    let env = Env::start().await;
    let orgs = env.run(&["--emulator", "--json", "orgs"]).await.ok().json();
    assert_eq!(orgs.as_array().map(Vec::len), Some(1), "{orgs}");
    assert_eq!(orgs[0]["name"], "Emulator Org");
    let created = env
        .run(&["--emulator", "--json", "workspaces", "create", "Scratch"])
        .await
        .ok()
        .json();
    assert_eq!(created["name"], "Scratch");
    // Nothing is kept: the next run has a new emulator, and no configuration was written.
    let listed = env
        .run(&["--emulator", "--json", "workspaces", "ls"])
        .await
        .ok()
        .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    assert!(!env.config.path().join("config.toml").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_sign_in_and_the_workspace_lifecycle() {
    let env = Env::start().await;
    let login = env
        .run(&[
            "--json",
            "login",
            "--client-id",
            "cli-service",
            "--client-secret",
            "cli-secret",
        ])
        .await
        .ok()
        .json();
    assert_eq!(login["organizations"][0]["name"], "Acme Mining");
    // The token is kept, readable by its owner only, and the secret is not in it.
    let token_file = env.token_file("default");
    let text = std::fs::read_to_string(&token_file).expect("token file");
    assert!(!text.contains("cli-secret"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let status = env.run(&["--json", "status"]).await.ok().json();
    assert_eq!(status["signed_in"], true);
    assert_eq!(status["client_id"], "cli-service");
    let shown = env.run(&["config", "show"]).await.ok();
    assert!(!shown.stdout.contains("cli-secret"), "{shown:?}");

    // Organizations: one, chosen by name, remembered.
    let orgs = env.run(&["orgs"]).await.ok();
    assert!(orgs.stdout.contains("Acme Mining"), "{orgs:?}");
    env.run(&["orgs", "use", "acme mining"]).await.ok();
    env.run(&["--org", "Nope Ltd", "workspaces", "ls"])
        .await
        .code(4);

    // Workspaces by name, with a remembered default.
    let listed = env.run(&["--json", "workspaces", "ls"]).await.ok().json();
    assert_eq!(listed[0]["name"], "Survey North");
    let created = env
        .run(&[
            "--json",
            "workspaces",
            "create",
            "Drillholes",
            "--description",
            "2026 campaign",
            "--label",
            "dh",
            "--use",
        ])
        .await
        .ok()
        .json();
    assert_eq!(created["description"], "2026 campaign");
    assert_eq!(created["labels"][0], "dh");
    let again = env
        .run(&["workspaces", "create", "Drillholes"])
        .await
        .code(5);
    assert!(again.stderr.contains("exists"), "{again:?}");
    let shown = env.run(&["--json", "workspaces", "show"]).await.ok().json();
    assert_eq!(
        shown["id"], created["id"],
        "the remembered workspace is the new one"
    );
    env.run(&["workspaces", "rename", "Drillholes", "Drillholes 2026"])
        .await
        .ok();
    let by_id = env
        .run(&[
            "--json",
            "workspaces",
            "show",
            created["id"].as_str().unwrap(),
        ])
        .await
        .ok()
        .json();
    assert_eq!(by_id["name"], "Drillholes 2026");
    let members = env
        .run(&["--json", "workspaces", "members", "Survey North"])
        .await
        .ok()
        .json();
    assert_eq!(members[0]["role"], "owner");

    // Wrong workspace name: not found, with a hint.
    let wrong = env
        .run(&["--workspace", "Survey South", "workspaces", "show"])
        .await
        .code(4);
    assert!(
        wrong.stderr.contains("no workspace named \"Survey South\""),
        "{wrong:?}"
    );
    assert!(wrong.stderr.contains("hint:"), "{wrong:?}");

    // Delete, see it gone, list it with --deleted, restore it.
    env.run(&["workspaces", "rm", "Drillholes 2026"]).await.ok();
    let names = |v: serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|w| w["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let live = names(env.run(&["--json", "workspaces", "ls"]).await.ok().json());
    assert_eq!(live, ["Survey North"]);
    let all = names(
        env.run(&["--json", "workspaces", "ls", "--deleted"])
            .await
            .ok()
            .json(),
    );
    assert!(all.contains(&"Drillholes 2026".to_owned()), "{all:?}");
    env.run(&["workspaces", "restore", "Survey North"])
        .await
        .code(4);
    env.run(&["workspaces", "restore", "Drillholes 2026"])
        .await
        .ok();
    let live = names(env.run(&["--json", "workspaces", "ls"]).await.ok().json());
    assert_eq!(live, ["Drillholes 2026", "Survey North"]);

    // Sign out: the token is gone and commands ask for a sign-in again.
    env.run(&["logout"]).await.ok();
    assert!(!token_file.exists());
    env.run(&["workspaces", "ls"]).await.code(3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_organizations_need_a_choice() {
    let seed = r#"{
      "organizations": [
        { "display_name": "North", "workspaces": [ { "name": "N1" } ] },
        { "display_name": "South", "workspaces": [ { "name": "S1" } ] }
      ],
      "clients": [ { "client_id": "cli-service", "client_secret": "cli-secret" } ]
    }"#;
    let env = Env::start_with(
        evo_emulator::Emulator::builder().seed(evo_emulator::Seed::from_json(seed).unwrap()),
    )
    .await;
    env.login_service().await;
    let run = env.run(&["workspaces", "ls"]).await.code(2);
    assert!(run.stderr.contains("--org"), "{run:?}");
    let south = env
        .run(&["--org", "South", "--json", "workspaces", "ls"])
        .await
        .ok()
        .json();
    assert_eq!(south[0]["name"], "S1");
    // EVO_ORG is the same as --org.
    let mut command = env.command(&["--json", "workspaces", "ls"]);
    command.env("EVO_ORG", "North");
    let north: support::Run = command.output().await.unwrap().into();
    assert_eq!(north.ok().json()[0]["name"], "N1");
    // Remembered with `orgs use`, then a workspace in it with `workspaces use`.
    env.run(&["orgs", "use", "South"]).await.ok();
    env.run(&["workspaces", "use", "S1"]).await.ok();
    let shown = env.run(&["--json", "workspaces", "show"]).await.ok().json();
    assert_eq!(shown["name"], "S1");
    // Another organization on the command line sets the remembered workspace aside.
    env.run(&["--org", "North", "workspaces", "show"])
        .await
        .code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evo_emulator_serves_until_stopped_and_other_runs_use_it() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let env = Env::start().await;
    let seed = env.path("seed.json");
    std::fs::write(&seed, support::SEED).unwrap();
    let mut server = env
        .command(&["emulator", "--seed", seed.to_str().unwrap()])
        .spawn()
        .expect("evo emulator");
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let (mut discovery, mut ims) = (String::new(), String::new());
    while discovery.is_empty() || ims.is_empty() {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the emulator prints its URLs");
        if let Some(url) = line.strip_prefix("discovery_url:") {
            discovery = url.trim().split("evo/identity").next().unwrap().to_owned();
        }
        if let Some(url) = line.strip_prefix("ims_url:") {
            ims = url.trim().to_owned();
        }
    }
    let mut login = env.command(&[
        "login",
        "--discovery-url",
        &discovery,
        "--ims-url",
        &ims,
        "--client-id",
        "cli-service",
        "--client-secret",
        "cli-secret",
    ]);
    login
        .env_remove("EVO_DISCOVERY_URL")
        .env_remove("EVO_IMS_URL");
    let login: support::Run = login.output().await.unwrap().into();
    login.ok();
    let mut list = env.command(&["--json", "workspaces", "ls"]);
    list.env_remove("EVO_DISCOVERY_URL")
        .env_remove("EVO_IMS_URL");
    let list: support::Run = list.output().await.unwrap().into();
    assert_eq!(list.ok().json()[0]["name"], "Survey North");
    server.kill().await.unwrap();
}
