//! Evo Workspaces API client (being written).
