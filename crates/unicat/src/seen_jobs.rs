//! The job events a client has already acted on, so a replayed event is not acted on twice.

use std::collections::{HashSet, VecDeque};

/// How many (job, status) pairs are remembered so a replayed job event is not acted on twice.
const SEEN_JOBS: usize = 1024;

/// Job events already acted on, by (job token, status).
#[derive(Debug, Default)]
pub(crate) struct SeenJobs {
    set: HashSet<(String, String)>,
    order: VecDeque<(String, String)>,
}

impl SeenJobs {
    /// Records the pair; false when it was seen before.
    pub(crate) fn first_time(&mut self, gid: &str, status: &str) -> bool {
        let pair = (gid.to_owned(), status.to_owned());
        if !self.set.insert(pair.clone()) {
            return false;
        }
        self.order.push_back(pair);
        if self.order.len() > SEEN_JOBS
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}
