//! The Sync API on socketioxide: auth on CONNECT, `initsync` with its acknowledgement.

use std::sync::Arc;

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;

use crate::{Shared, lock};

#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

pub(crate) fn register(io: &SocketIo, shared: Arc<Shared>) {
    // Everything happens in the middleware: socketioxide sends the CONNECT answer before it
    // spawns the connect handler, so an `initsync` emitted right after CONNECT could reach a
    // socket whose handlers are not registered yet. The middleware runs before the answer.
    let check_auth = move |s: SocketRef, TryData(auth): TryData<Value>| {
        let shared = shared.clone();
        async move {
            let token = auth
                .ok()
                .and_then(|a| a.get("JWT").and_then(Value::as_str).map(str::to_owned));
            lock(&shared.stats).socket_tokens.push(token.clone());
            let user = token.and_then(|t| shared.world().tokens.get(&t).cloned());
            let Some(user) = user else {
                return Err(Refused("invalid or missing JWT"));
            };
            lock(&shared.sockets).insert(s.id.to_string(), user);
            lock(&shared.stats).socket_connects += 1;
            let init_shared = shared.clone();
            s.on(
                "initsync",
                move |Data(data): Data<Value>, ack: AckSender| {
                    let shared = init_shared.clone();
                    async move {
                        lock(&shared.stats).initsyncs.push(data.clone());
                        let number =
                            |name: &str| data.get(name).and_then(Value::as_u64).unwrap_or(0);
                        let project = data
                            .get("project")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        let items = shared.world().items_after(
                            number("cc.cursor"),
                            &project,
                            number("cursor"),
                        );
                        let _ = ack.send(&items);
                    }
                },
            );
            let gone = shared.clone();
            s.on_disconnect(move |s: SocketRef| {
                let shared = gone.clone();
                async move {
                    lock(&shared.sockets).remove(&s.id.to_string());
                }
            });
            Ok(())
        }
    };
    io.ns("/", (async |_: SocketRef| {}).with(check_auth));
}
