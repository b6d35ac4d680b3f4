//! Evo Discovery API client (being written).
