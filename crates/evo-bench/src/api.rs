//! The API benchmark: API calls side by side, evo-rs (`evo_workspaces::WorkspacesClient` on
//! `evo_hyper::HyperTransport`), the official Python SDK (`evo.workspaces`) and bare hyper
//! (hyper-util's pooled client sending the same GETs and reading the bodies, nothing else),
//! against the emulator's Workspaces API seeded with 60 workspaces.
//!
//! Each child makes the same calls, alternately listing workspaces (page size 50) and getting
//! one workspace, with 1 and with 16 calls in flight, and times itself and takes its own CPU
//! time (`getrusage`) around the calls only. The emulator shares the machine's cores, so it is
//! the ceiling for calls per second; client CPU per call is the figure each side controls.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use evo_core::{ApiConnector, StaticTokenAuthorizer};
use evo_emulator::{Emulator, Seed};
use evo_hyper::HyperTransport;
use evo_workspaces::{ListWorkspacesQuery, WorkspacesClient};
use futures_util::StreamExt;
use http_body_util::{BodyExt, Empty};

use crate::io::{ChildTarget, PythonBench, child_result};
use crate::rusage::own_cpu_seconds;

/// The Python side, written next to the benchmark's files at run time.
const PYTHON_SCRIPT: &str = include_str!("../python/api_bench.py");
/// The three sides, in the order of the first round.
const SIDES: [&str; 3] = ["rust", "python", "hyper"];
/// Calls in flight.
const CONCURRENCY: [usize; 2] = [1, 16];
/// Workspaces seeded (more than one page of 50).
const WORKSPACES: usize = 60;

/// One child's measurement.
#[derive(Debug, Clone, Copy)]
struct Measured {
    calls_per_second: f64,
    cpu_ms_per_call: f64,
}

/// Runs the whole benchmark and prints the report; the last line is the summary.
pub fn orchestrate() -> Result<(), String> {
    let calls: usize = std::env::var("EVO_BENCH_API_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let rounds: usize = std::env::var("EVO_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    crate::io::beside_python("api", PYTHON_SCRIPT, |bench| run(bench, calls, rounds))
}

fn run(bench: &PythonBench<'_>, calls: usize, rounds: usize) -> Result<(), String> {
    let (python, script) = (bench.python, bench.script);
    let workspaces: Vec<String> = (0..WORKSPACES)
        .map(|i| format!(r#"{{"name": "Bench {i:02}"}}"#))
        .collect();
    let seed = Seed::from_json(&format!(
        r#"{{"organizations": [{{"display_name": "Bench", "workspaces": [{}]}}]}}"#,
        workspaces.join(",")
    ))
    .map_err(|e| format!("the seed: {e}"))?;
    let rt = crate::io::runtime()?;
    let emulator = rt.block_on(async {
        Emulator::builder()
            .seed(seed)
            .start()
            .await
            .map_err(|e| format!("starting the emulator: {e}"))
    })?;
    let hub = emulator.hub_url().to_string();
    let org = emulator.org_id().to_string();
    let workspace = emulator
        .organizations()
        .first()
        .and_then(|o| o.workspaces.first())
        .map(|w| w.0.to_string())
        .ok_or("the seeded workspace is missing")?;
    let token = emulator.issue_token(&["evo.workspace"]);
    println!(
        "api-bench: {calls} calls per child (list workspaces with page size 50, get a workspace, alternately) against the emulator at {hub} ({WORKSPACES} workspaces), best of {rounds}"
    );
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut best: HashMap<(usize, &str), Measured> = HashMap::new();
    for concurrency in CONCURRENCY {
        for round in 0..rounds {
            let mut sides = SIDES;
            sides.rotate_left(round % SIDES.len());
            for side in sides {
                let mut command = if side == "python" {
                    let mut c = Command::new(python);
                    c.arg(script);
                    c
                } else {
                    let mut c = Command::new(&exe);
                    c.args(["api-child", side]);
                    c
                };
                command
                    .args([&hub, &org, &workspace])
                    .arg(calls.to_string())
                    .arg(concurrency.to_string())
                    .env("EVO_TOKEN", &token);
                let result = child_result(side, &mut command)?;
                let (Some(seconds), Some(cpu)) =
                    (result.number::<f64>("seconds"), result.number::<f64>("cpu"))
                else {
                    return Err(format!("malformed {side} child result {:?}", result.line));
                };
                let m = Measured {
                    calls_per_second: calls as f64 / seconds,
                    cpu_ms_per_call: cpu * 1e3 / calls as f64,
                };
                println!(
                    "  c{concurrency:<2} round {} {side:6} {:8.0} calls/s  {:.3} ms CPU per call",
                    round + 1,
                    m.calls_per_second,
                    m.cpu_ms_per_call
                );
                best.entry((concurrency, side))
                    .and_modify(|b| {
                        b.calls_per_second = b.calls_per_second.max(m.calls_per_second);
                        b.cpu_ms_per_call = b.cpu_ms_per_call.min(m.cpu_ms_per_call);
                    })
                    .or_insert(m);
            }
        }
    }
    rt.block_on(emulator.shutdown());
    let get = |c: usize, side: &str| {
        best.get(&(c, side))
            .copied()
            .ok_or_else(|| format!("no {side} result at concurrency {c}"))
    };
    for c in CONCURRENCY {
        let (r, p, h) = (get(c, "rust")?, get(c, "python")?, get(c, "hyper")?);
        println!(
            "concurrency {c}: evo-rs {:.0} calls/s {:.3} ms CPU/call; python {:.0} calls/s {:.3} ms; bare hyper {:.0} calls/s {:.3} ms",
            r.calls_per_second,
            r.cpu_ms_per_call,
            p.calls_per_second,
            p.cpu_ms_per_call,
            h.calls_per_second,
            h.cpu_ms_per_call
        );
    }
    let (r, p, h) = (get(16, "rust")?, get(16, "python")?, get(16, "hyper")?);
    println!(
        "api-bench: c16 {:.2}x python, {:.2}x bare hyper, cpu {:.2}x python",
        r.calls_per_second / p.calls_per_second,
        r.calls_per_second / h.calls_per_second,
        r.cpu_ms_per_call / p.cpu_ms_per_call
    );
    Ok(())
}

/// `api-child <rust|hyper> HUB ORG WORKSPACE CALLS CONCURRENCY` (token in `EVO_TOKEN`): one
/// measured child. Prints `result seconds=S cpu=S`.
pub fn child(args: &[String]) -> Result<(), String> {
    let [side, hub, org, workspace, calls, concurrency] = args else {
        return Err(
            "usage: evo-bench api-child <rust|hyper> HUB ORG WORKSPACE CALLS CONCURRENCY".into(),
        );
    };
    let ChildTarget {
        hub,
        org,
        workspace,
        token,
    } = ChildTarget::parse(hub, org, workspace)?;
    let calls: usize = calls.parse().map_err(|_| "bad call count".to_owned())?;
    let concurrency: usize = concurrency
        .parse()
        .map_err(|_| "bad concurrency".to_owned())?;
    let rt = crate::io::runtime()?;
    let (seconds, cpu) = match side.as_str() {
        "rust" => {
            let connector = ApiConnector::builder(hub)
                .transport(Arc::new(
                    HyperTransport::builder()
                        .no_proxy()
                        .build()
                        .map_err(|e| e.to_string())?,
                ))
                .authorizer(Arc::new(StaticTokenAuthorizer::new(token)))
                .build()
                .map_err(|e| format!("building the connector: {e}"))?;
            let client = WorkspacesClient::new(org, connector);
            let query = ListWorkspacesQuery::new().limit(50);
            rt.block_on(timed(calls, concurrency, |i| {
                let (client, query) = (&client, &query);
                async move {
                    if i % 2 == 0 {
                        let page = client
                            .list_workspaces(query)
                            .await
                            .map_err(|e| e.to_string())?;
                        if page.items.len() != 50 {
                            return Err(format!("a page of {} workspaces", page.items.len()));
                        }
                    } else {
                        client
                            .get_workspace(workspace)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    Ok(())
                }
            }))?
        }
        "hyper" => {
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http::<Empty<bytes::Bytes>>();
            let base = hub.as_str().trim_end_matches('/');
            let list: http::Uri = format!("{base}/workspace/orgs/{org}/workspaces?limit=50")
                .parse()
                .map_err(|e| format!("{e}"))?;
            let get: http::Uri = format!("{base}/workspace/orgs/{org}/workspaces/{workspace}")
                .parse()
                .map_err(|e| format!("{e}"))?;
            let auth = format!("Bearer {token}");
            rt.block_on(timed(calls, concurrency, |i| {
                let uri = if i % 2 == 0 {
                    list.clone()
                } else {
                    get.clone()
                };
                let (client, auth) = (&client, &auth);
                async move {
                    let request = http::Request::get(uri)
                        .header(http::header::AUTHORIZATION, auth)
                        .body(Empty::new())
                        .map_err(|e| e.to_string())?;
                    let response = client.request(request).await.map_err(|e| e.to_string())?;
                    if !response.status().is_success() {
                        return Err(format!("status {}", response.status()));
                    }
                    response
                        .into_body()
                        .collect()
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string())
                }
            }))?
        }
        other => return Err(format!("unknown side {other}")),
    };
    println!("result seconds={seconds:.4} cpu={cpu:.4}");
    Ok(())
}

/// Makes `calls` calls, `concurrency` at a time; the wall and CPU seconds they took.
async fn timed<F, Fut>(calls: usize, concurrency: usize, call: F) -> Result<(f64, f64), String>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let (started, cpu) = (Instant::now(), own_cpu_seconds());
    let mut results = futures_util::stream::iter(0..calls)
        .map(call)
        .buffer_unordered(concurrency.max(1));
    while let Some(result) = results.next().await {
        result?;
    }
    Ok((started.elapsed().as_secs_f64(), own_cpu_seconds() - cpu))
}
