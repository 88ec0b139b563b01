//! The lab: an imitation of the Microsoft 365 endpoints on loopback, with faults that
//! happen on the wire. See the module documentation of each part.

pub mod state;

pub use state::{LabEndpoint, LabState};
